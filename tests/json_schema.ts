/**
 * A JSON Schema (2020-12) checker for the keywords docs/report.schema.json
 * uses: type, const, enum, required, properties, additionalProperties
 * (false), items, oneOf, allOf and local $ref. Returns the errors, each with
 * the JSON path; an unknown keyword is an error, so the schema cannot use
 * one this checker would quietly pass.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "$schema",
  "$id",
  "title",
  "description",
  "$defs",
  "type",
  "const",
  "enum",
  "required",
  "properties",
  "additionalProperties",
  "items",
  "oneOf",
  "allOf",
  "$ref",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function typeMatches(actual: string, wanted: string): boolean {
  return actual === wanted || (wanted === "number" && actual === "integer");
}

/** The errors of `value` against `schema` (empty when valid); `root` resolves `#/$defs/...`. */
export function validate(
  schema: Schema,
  value: unknown,
  root: Schema = schema,
  path = "$",
): string[] {
  const errors: string[] = [];
  for (const key of Object.keys(schema)) {
    if (!KNOWN.has(key)) errors.push(`${path}: the checker does not know the keyword ${key}`);
  }
  if (typeof schema.$ref === "string") {
    const target = schema.$ref.replace(/^#\//, "").split("/")
      .reduce<unknown>((s, k) => (s as Schema)[k], root) as Schema | undefined;
    if (!target) return [`${path}: unresolved $ref ${schema.$ref}`];
    errors.push(...validate(target, value, root, path));
  }
  if (schema.type !== undefined) {
    const types = ([] as string[]).concat(schema.type as string | string[]);
    if (!types.some((t) => typeMatches(typeOf(value), t))) {
      return [...errors, `${path}: ${JSON.stringify(value)} is not ${types.join(" or ")}`];
    }
  }
  if ("const" in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  for (const sub of (schema.allOf as Schema[] | undefined) ?? []) {
    errors.push(...validate(sub, value, root, path));
  }
  if (Array.isArray(schema.oneOf)) {
    const passing = schema.oneOf.filter((s) => validate(s, value, root, path).length === 0);
    if (passing.length !== 1) {
      errors.push(`${path}: matches ${passing.length} of oneOf's ${schema.oneOf.length}, not 1`);
    }
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) {
      if (!(key in object)) errors.push(`${path}: ${key} is missing`);
    }
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const [key, v] of Object.entries(object)) {
      if (properties[key]) errors.push(...validate(properties[key], v, root, `${path}.${key}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${key} is not allowed`);
    }
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) =>
      errors.push(...validate(schema.items as Schema, v, root, `${path}[${i}]`))
    );
  }
  return errors;
}
