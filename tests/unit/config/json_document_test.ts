/**
 * The plain-JSON reader against the yaml package's reader of the same text:
 * every JSON document it takes must give the same settings, origins and
 * errors, and everything it cannot read exactly must go to the yaml package.
 */
import { assert, assertEquals } from "../../assert.ts";
import { documentSettings } from "../../../src/config/document.ts";
import { jsonDocumentSettings, MAX_DEPTH } from "../../../src/config/json_document.ts";
import type { SourceOptions } from "../../../src/config/sources.ts";

/** Settings, or the messages of the errors thrown: what a reader's caller sees. */
function outcome(read: () => unknown): unknown {
  try {
    return { settings: read() };
  } catch (e) {
    const errors = (e as { errors?: Error[] }).errors ?? [e as Error];
    return { errors: errors.map((x) => `${x.constructor.name}: ${x.message}`) };
  }
}

const thousand = JSON.stringify(
  {
    redirect: {
      inbound: {
        excludePorts: Array.from({ length: 250 }, (_, i) => 20000 + i),
        excludePortsForIPs: Array.from({ length: 250 }, (_, i) => `10.1.${i >> 8}.${i & 255}`),
      },
      outbound: { excludePortsForIPs: Array.from({ length: 250 }, (_, i) => `fd01::${i}`) },
    },
  },
  null,
  2,
);

/** Plain JSON: the fast reader must take each, and agree with the yaml package. */
const PLAIN: [string, string][] = [
  ["empty object", "{}"],
  ["one leaf, compact", '{"redirect":{"dns":{"port":53,"enabled":true}}}'],
  ["indented, trailing newline", '{\n  "redirect": {\n    "dns": { "port": 53 }\n  }\n}\n'],
  ["lists with origins per item", '{"redirect": {"inbound": {"excludePorts": [22, 80,\n 443]}}}'],
  ["1,000 list items", thousand],
  ["null is not given", '{"redirect": {"dns": {"port": null}}, "kumaDPUser": null}'],
  ["numbers as YAML reads them", '{"redirect": {"dns": {"port": 5.3e1}, "inbound": {"port": -0}}}'],
  ["a fraction", '{"redirect": {"dns": {"port": 53.5}}}'],
  ["string escapes", '{"kumaDPUser": "k\\u00fcma\\/dp\\n\\t\\"x\\\\"}'],
  ["a surrogate pair", '{"kumaDPUser": "\\ud83d\\ude00"}'],
  ["a port in quotes", '{"redirect": {"dns": {"port": "53"}}}'],
  ["a boolean as a string", '{"redirect": {"dns": {"enabled": "true"}}}'],
  ["a number for a boolean", '{"redirect": {"dns": {"enabled": 1}}}'],
  ["a repeated key", '{"redirect": {"dns": {"port": 53, "port": 54}}}'],
  ["an unknown key", '{"redirect": {"dns": {"prot": 53}}, "nope": 1}'],
  ["a list where a mapping goes", '{"redirect": [1, 2]}'],
  ["a scalar where a mapping goes", '{"redirect": {"dns": 5}}'],
  ["a mapping where a leaf goes", '{"redirect": {"dns": {"port": {"a": 1}}}}'],
  ["a list of mixed items", '{"redirect": {"inbound": {"excludePorts": [1, "2", null, [3]]}}}'],
  ["a numeric key", '{"1": 2}'],
  ["unicode in keys", '{"redir\\u0065ct": {"dns": {"port": 1}}}'],
  // Quoted, "<<" is no YAML merge key (as in Go's yaml): an unknown key to both readers.
  // The deepest the JSON reader takes; the yaml reader's limit is the same (yaml_checks.ts).
  ["nesting at the limit", '{"a":'.repeat(MAX_DEPTH) + "1" + "}".repeat(MAX_DEPTH)],
  ["a quoted merge key", '{"<<": {"verbose": true}, "redirect": {"<<": {"dns": {"port": 1}}}}'],
];

for (const [name, text] of PLAIN) {
  for (const lenient of [false, true]) {
    Deno.test(`jsonDocumentSettings() reads ${name} as the yaml package does${lenient ? " (lenient)" : ""}`, () => {
      const warnings: [string[], string[]] = [[], []];
      const opts = (i: 0 | 1): SourceOptions =>
        lenient ? { onUnknownKey: (e) => warnings[i].push(e.message) } : {};
      const fast = outcome(() => {
        const s = jsonDocumentSettings(text, "file:/tp.json", opts(0));
        assert(s !== undefined, "the fast reader took it");
        return s;
      });
      assertEquals(fast, outcome(() => documentSettings(text, "file:/tp.json", opts(1))));
      assertEquals(warnings[0], warnings[1]);
    });
  }
}

/** Not plain JSON (or not read exactly so): the yaml package must read each. */
const OTHER: [string, string][] = [
  ["YAML", "redirect:\n  dns:\n    port: 53\n"],
  ["YAML flow mapping", "{redirect: {dns: {port: 53}}}"],
  ["a tab", '{\t"redirect": {}}'],
  ["CRLF line ends", '{\r\n"redirect": {}\r\n}'],
  ["a byte-order mark", '\ufeff{"redirect": {}}'],
  ["a comment", '{"redirect": {}} # note'],
  ["a trailing comma", '{"redirect": {},}'],
  ["a top-level list", "[1]"],
  ["an empty document", ""],
  ["a leading zero", '{"redirect": {"dns": {"port": 053}}}'],
  ["single quotes", "{'redirect': {}}"],
  ["a __proto__ key", '{"__proto__": {"dns": 1}}'],
  ["nesting past the limit", '{"a":'.repeat(MAX_DEPTH + 1) + "1" + "}".repeat(MAX_DEPTH + 1)],
  ["two documents", '{"redirect": {}}\n---\n{}'],
];

for (const [name, text] of OTHER) {
  Deno.test(`jsonDocumentSettings() leaves ${name} to the yaml package`, () => {
    assertEquals(jsonDocumentSettings(text, "stdin"), undefined);
  });
}
