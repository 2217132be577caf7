/**
 * The one way from a parsed command line to a command's action, for both
 * parsers (cli.ts): the target check, the config resolution (lenient for
 * uninstall) and the action, whose module is imported when it runs.
 *
 * @module
 */
import { resolveConfig, type Resolved, type ResolveOptions } from "../config/resolve.ts";
import { type CommandInputs, type CommandLine, TARGET } from "./command_line.ts";
import type { CliIo } from "./io.ts";
import { EXIT } from "./exit_codes.ts";
import { describeError, exitCodeOf, UserError } from "./errors.ts";
import { warn } from "./log.ts";
import { checkedConfigReader } from "./stored_config_reader.ts";
import { quoted } from "../config/errors.ts";

function checkTarget(target: string | undefined): void {
  if (target !== undefined && target !== TARGET) {
    throw new UserError(
      `unknown target ${quoted(target)}: the only target is '${TARGET}'`,
      EXIT.USAGE,
    );
  }
}

/** Resolves the config from every source, after warning about the no-op flags given. */
function resolveFor(
  inputs: CommandInputs,
  io: CliIo,
  options: ResolveOptions = {},
): Promise<Resolved> {
  for (const note of inputs.notes) warn(io, note);
  return resolveConfig({
    configSources: inputs.configSources,
    flags: inputs.flags,
    env: io.env,
    // Uninstall reads files as they are: a damaged boot config must not block the emergency path.
    readFile: options.lenient ? io.readFile : checkedConfigReader(io),
    readStdin: io.readStdin,
  }, options);
}

/** Runs the command of `line` and returns its exit code; errors are thrown for cli() to report. */
export async function runCommandLine(line: CommandLine, io: CliIo): Promise<number> {
  switch (line.command) {
    case "install": {
      checkTarget(line.target);
      const resolved = await resolveFor(line, io);
      const code = await (await import("./install_cmd.ts")).runInstall(resolved, io);
      // --verify: real packets through what was just applied (src/verify).
      if (code !== EXIT.OK || !line.verify) return code;
      if (resolved.config.dryRun) {
        warn(io, "[dry-run] --verify: nothing was applied, so nothing was verified");
        return code;
      }
      return (await import("./verify_cmd.ts")).runVerify(resolved, io, {
        json: false,
        listen: false,
      });
    }
    case "uninstall":
      checkTarget(line.target);
      // Lenient: uninstall is the emergency path, a typo must not block it.
      return (await import("./uninstall_cmd.ts")).runUninstall(
        await resolveFor(line, io, { lenient: true }),
        io,
      );
    case "status":
      try {
        checkTarget(line.target);
        return await (await import("./status_cmd.ts")).runStatus(await resolveFor(line, io), io, {
          json: line.json,
        });
      } catch (e) {
        // A script that parses stdout gets an object, and the reason, whatever happened.
        if (line.json) {
          const { renderStatusErrorJson } = await import("./status_json.ts");
          io.out(renderStatusErrorJson(describeError(e, {}), exitCodeOf(e)));
        }
        throw e;
      }
    case "verify":
      try {
        return await (await import("./verify_cmd.ts")).runVerify(await resolveFor(line, io), io, {
          json: line.json,
          listen: line.listen,
        });
      } catch (e) {
        if (line.json) {
          const { renderStatusErrorJson } = await import("./status_json.ts");
          io.out(renderStatusErrorJson(describeError(e, {}), exitCodeOf(e)));
        }
        throw e;
      }
    case "config":
      return (await import("./config_cmd.ts")).runConfig(await resolveFor(line, io), io, {
        explain: line.explain,
      });
  }
}
