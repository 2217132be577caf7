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
import { EXIT } from "../ops/exit_codes.ts";
import { describeError, exitCodeOf, UserError } from "../ops/errors.ts";
import { warn } from "../ops/log.ts";
import { checkedConfigReader } from "./stored_config_reader.ts";
import { quoted } from "../config/errors.ts";
import { MessageLog, RunReportBuilder } from "../ops/report.ts";
import { exitMeaning, renderReportJson } from "./report_json.ts";

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

/**
 * Runs install or uninstall with a report (report.ts): the steps record
 * into it through the `CliIo` they get. Text: their lines go out as they
 * happen, as always. `--json`: stdout carries only the report, printed at
 * the end whatever the outcome; stderr keeps its messages.
 */
async function reporting(
  line: { command: "install" | "uninstall" | "confirm"; json: boolean },
  io: CliIo,
  run: (io: CliIo, dryRun: (dryRun: boolean) => void) => Promise<number>,
): Promise<number> {
  const report = new RunReportBuilder(line.command);
  const rio: CliIo = {
    ...io,
    out: (text) => {
      report.output(text);
      if (!line.json) io.out(text);
    },
    report,
  };
  let code: number;
  try {
    code = await run(rio, (dryRun) => report.setDryRun(dryRun));
  } catch (e) {
    if (line.json) {
      const exitCode = exitCodeOf(e);
      io.out(renderReportJson(report.finish(exitCode, exitMeaning(exitCode), {
        error: describeError(e, {}),
        usage: exitCode === EXIT.USAGE,
      })));
    }
    throw e;
  }
  if (line.json) io.out(renderReportJson(report.finish(code, exitMeaning(code))));
  return code;
}

/** `verify` (src/ops/verify.ts), its report printed as text or JSON. */
async function verifyAndRender(
  resolved: Resolved,
  io: CliIo,
  options: { json: boolean; listen: boolean },
): Promise<number> {
  const { report, exitCode } = await (await import("../ops/verify.ts")).runVerify(resolved, io, {
    listen: options.listen,
  });
  const { renderVerifyJson, renderVerifyText } = await import("../verify/report.ts");
  io.out(options.json ? renderVerifyJson(report) : renderVerifyText(report));
  return exitCode;
}

/** `--confirm-timeout`'s value in ms; a bad one is a usage error (exit 2), nothing changed. */
async function parseTimeout(text: string): Promise<number> {
  const { parseConfirmTimeout } = await import("../ops/confirm/duration.ts");
  try {
    return parseConfirmTimeout(text);
  } catch (e) {
    throw new UserError(`--confirm-timeout: ${(e as Error).message}`, EXIT.USAGE);
  }
}

/** Runs the command of `line` and returns its exit code; errors are thrown for cli() to report. */
export async function runCommandLine(line: CommandLine, io: CliIo): Promise<number> {
  switch (line.command) {
    case "install": {
      let verify: Resolved | undefined;
      // --confirm-timeout of a real run (a dry run applies nothing, so nothing waits).
      let pendingMs: number | undefined;
      const code = await reporting(
        { command: "install", json: line.json },
        io,
        async (rio, dryRun) => {
          checkTarget(line.target);
          const timeout = line.confirmTimeout === undefined
            ? undefined
            : await parseTimeout(line.confirmTimeout);
          const resolved = await resolveFor(line, rio);
          dryRun(resolved.config.dryRun);
          if (line.verify) verify = resolved;
          if (!resolved.config.dryRun) pendingMs = timeout;
          else if (timeout !== undefined) {
            warn(
              rio,
              "[dry-run] --confirm-timeout: nothing is applied, so nothing waits to be confirmed",
            );
          }
          return (await import("../ops/install.ts")).runInstall(resolved, rio, {
            confirmTimeoutMs: pendingMs,
          });
        },
      );
      if (code !== EXIT.OK) return code;
      // --verify: real packets through what was just applied (src/verify).
      if (verify?.config.dryRun) {
        warn(io, "[dry-run] --verify: nothing was applied, so nothing was verified");
      } else if (verify) {
        const verified = await verifyAndRender(verify, io, { json: false, listen: false });
        if (verified !== EXIT.OK) {
          // A pending install whose paths do not hold is rolled back at once.
          if (pendingMs !== undefined) {
            await (await import("../ops/confirm/confirm.ts")).rollBackNow(
              io,
              "verify failed after the install",
            );
          }
          return verified;
        }
      }
      if (pendingMs !== undefined && !line.json) {
        // A terminal on stdin: asked as iptables-apply asks (src/ops/confirm/prompt.ts).
        const { askToKeep } = await import("../ops/confirm/prompt.ts");
        return await askToKeep(io, pendingMs) ?? code;
      }
      return code;
    }
    case "confirm":
      return await reporting(
        { command: "confirm", json: line.json },
        io,
        async (rio) => (await import("../ops/confirm/confirm.ts")).runConfirm(rio),
      );
    case "uninstall":
      return await reporting({ command: "uninstall", json: line.json }, io, async (rio, dryRun) => {
        checkTarget(line.target);
        // Lenient: uninstall is the emergency path, a typo must not block it.
        const resolved = await resolveFor(line, rio, { lenient: true });
        dryRun(resolved.config.dryRun);
        return (await import("../ops/uninstall.ts")).runUninstall(resolved, rio);
      });
    case "status": {
      const log = new MessageLog();
      const rio: CliIo = { ...io, report: log };
      try {
        checkTarget(line.target);
        const { report, exitCode } = await (await import("../ops/status.ts")).runStatus(
          await resolveFor(line, rio),
          rio,
        );
        io.out(
          line.json
            ? (await import("./status_json.ts")).renderStatusJson(report, {
              exitCode,
              warnings: log.warnings,
            })
            : (await import("./status_text.ts")).renderStatusText(report),
        );
        return exitCode;
      } catch (e) {
        // A script that parses stdout gets an object, and the reason, whatever happened.
        if (line.json) {
          const { renderStatusErrorJson } = await import("./status_json.ts");
          io.out(renderStatusErrorJson(describeError(e, {}), exitCodeOf(e), log.warnings));
        }
        throw e;
      }
    }
    case "verify":
      try {
        return await verifyAndRender(await resolveFor(line, io), io, {
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
      return await (await import("./config_cmd.ts")).runConfig(await resolveFor(line, io), io, {
        explain: line.explain,
        output: line.output,
      });
  }
}
