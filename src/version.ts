import denoJson from "../deno.json" with { type: "json" };

/** The version, from deno.json; `deno compile` embeds it with the module. */
export const VERSION: string = denoJson.version;
