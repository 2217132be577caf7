/** In-memory sources for resolveConfig() tests. */
import { assertRejects } from "../../assert.ts";
import { ConfigError } from "../../../src/config/errors.ts";
import { type FlagInput, resolveConfig, type ResolveInputs } from "../../../src/config/resolve.ts";
import { decodeUtf8 } from "../../../src/os/bounded_read.ts";

export interface FakeSources {
  /** Text, or bytes decoded as the real reader decodes them (strict UTF-8). */
  files?: Record<string, string | Uint8Array>;
  stdin?: string;
  configSources?: string[];
  env?: Record<string, string>;
  flags?: FlagInput[];
}

/** ResolveInputs over in-memory files; reading stdin twice fails, like a real pipe would mislead. */
export function fakeInputs(sources: FakeSources = {}): ResolveInputs {
  let stdinReads = 0;
  return {
    configSources: sources.configSources ?? [],
    env: sources.env ?? {},
    flags: sources.flags ?? [],
    readFile: (path) => {
      const content = sources.files?.[path];
      if (content === undefined) {
        return Promise.reject(new Error(`No such file or directory: ${path}`));
      }
      try {
        return Promise.resolve(typeof content === "string" ? content : decodeUtf8(content, path));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    readStdin: () => {
      stdinReads++;
      if (stdinReads > 1 || sources.stdin === undefined) {
        return Promise.reject(new Error("stdin is not available"));
      }
      return Promise.resolve(sources.stdin);
    },
  };
}

/** A flag input, as collectInputs() gives it. */
export function flag(flag: string, path: string, raw: FlagInput["raw"]): FlagInput {
  return { flag, path, raw };
}

/** One config file, given as --config: the most common source in these tests. */
export function oneFile(text: string | Uint8Array, path = "/tp.yaml"): FakeSources {
  return { files: { [path]: text }, configSources: [path] };
}

/** Resolves the sources and returns the ConfigError it must throw. */
export function rejection(sources: FakeSources): Promise<ConfigError> {
  return assertRejects(() => resolveConfig(fakeInputs(sources)), ConfigError);
}
