/**
 * Registers every subcommand on the commander program: arguments, options,
 * help texts. Each action lives in its own file, imported when the command
 * runs (dispatch.ts), so `--version` and `--help` do not load the firewalld
 * client (dbus-next, sax) or the rule builders.
 */
import type { Command } from "commander";
import { addConfigOptions, collectInputs } from "./config_flags.ts";
import { type CommandLine, TARGET } from "./command_line.ts";
import type { CliIo } from "./io.ts";
import { runCompletion } from "./completion_cmd.ts";
import { EXIT } from "../ops/exit_codes.ts";
import { VERSION } from "../version.ts";

/** Runs a parsed command line and returns its exit code: runCommandLine (dispatch.ts) in the CLI. */
export type RunCommandLine = (line: CommandLine) => Promise<number>;

/**
 * Registers the commands on `program`. The actions of install, uninstall,
 * status and config hand their parsed command line to `run`, the same
 * dispatch the fast path (fast_argv.ts) uses; each stores its exit code in
 * `result`.
 */
export function registerCommands(
  program: Command,
  io: CliIo,
  result: { code: number },
  run: RunCommandLine,
): void {
  const install = program.command("install")
    .argument("[target]", `optional '${TARGET}', as in kumactl`)
    .description("install the transparent proxy rules (removing an earlier installation first)")
    .option("--json", "print the result as JSON (schema in the README)")
    .addHelpText(
      "after",
      `
Examples:
  # show the rules without changing anything (works as non-root)
  kuma-tproxy install --dry-run
  # install for kuma-dp running as user kuma-dp, keep SSH reachable, redirect DNS
  kuma-tproxy install --kuma-dp-user kuma-dp --exclude-inbound-ports 22 --redirect-dns
  # same options from a file and stdin, as with kumactl
  kuma-tproxy install transparent-proxy --config /etc/kuma/tproxy.yaml --config -
  # persist with firewalld so the rules survive reboots and firewall-cmd --reload
  kuma-tproxy install --kuma-dp-user kuma-dp --store-firewalld
  # without firewalld: a systemd unit applies the same config at boot
  kuma-tproxy install --kuma-dp-user kuma-dp --store-systemd`,
    )
    .option("--verify", "after the apply, run `kuma-tproxy verify`; exit 1 if a path fails")
    .option(
      "--confirm-timeout <duration>",
      "roll back unless `kuma-tproxy confirm` runs within DURATION (1s to 1h, e.g. 2m); " +
        "nothing read at boot changes until then",
    )
    .action(
      async (
        target: string | undefined,
        opts: { json?: boolean; verify?: boolean; confirmTimeout?: string },
        cmd: Command,
      ) => {
        result.code = await run({
          command: "install",
          target,
          json: opts.json === true,
          // Only when given: the fast path (fast_argv.ts) never takes these.
          ...(opts.verify ? { verify: true } : {}),
          ...(opts.confirmTimeout === undefined ? {} : { confirmTimeout: opts.confirmTimeout }),
          ...collectInputs(cmd),
        });
      },
    );
  addConfigOptions(install);

  program.command("confirm")
    .description("keep the rules of an install --confirm-timeout, and store them as it asked")
    .option("--json", "print the result as JSON (schema in the README)")
    .addHelpText(
      "after",
      `
Examples:
  # on a remote host: apply, then confirm from a NEW connection within 2 minutes
  kuma-tproxy install --kuma-dp-user kuma-dp --store-systemd --confirm-timeout 2m
  kuma-tproxy confirm`,
    )
    .action(async (opts: { json?: boolean }) => {
      result.code = await run({ command: "confirm", json: opts.json === true });
    });

  // The watcher of a pending install (src/ops/confirm/watch.ts), started by install itself.
  program.command("confirm-watch", { hidden: true })
    .argument("<id>")
    .action(async (id: string) => {
      result.code = await (await import("../ops/confirm/watch.ts")).runWatch(io, id);
    });

  const uninstall = program.command("uninstall")
    .argument("[target]", `optional '${TARGET}', as in kumactl`)
    .description(
      "remove every rule and chain this tool or kumactl 2.9+ installed, from iptables and firewalld, and our boot unit",
    )
    .option("--json", "print the result as JSON (schema in the README)")
    .addHelpText(
      "after",
      `
Examples:
  # list what would be removed
  kuma-tproxy uninstall --dry-run
  # remove the rules, from both iptables backends, both families and firewalld
  kuma-tproxy uninstall transparent-proxy`,
    )
    .action(async (target: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      result.code = await run({
        command: "uninstall",
        target,
        json: opts.json === true,
        ...collectInputs(cmd),
      });
    });
  addConfigOptions(uninstall);

  const status = program.command("status")
    .argument("[target]", `optional '${TARGET}'`)
    .description(
      "report per family whether the rules are installed, the backend, drift from the config, and persistence",
    )
    .option("--json", "print the report as JSON")
    .addHelpText(
      "after",
      `
Exit codes: 0 installed and matching the config, 1 status could not be read (for example not
root), 2 usage or config error, 3 installed but different (drift) or partly unreadable,
4 not installed.

Examples:
  kuma-tproxy status --kuma-dp-user kuma-dp
  kuma-tproxy status --config /etc/kuma/tproxy.yaml --json`,
    )
    .action(async (target: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      result.code = await run({
        command: "status",
        target,
        json: opts.json === true,
        ...collectInputs(cmd),
      });
    });
  addConfigOptions(status);

  const verify = program.command("verify")
    .description(
      "send real packets through the installed rules and report, per path, whether it holds",
    )
    .option("--json", "print the report as JSON")
    .option("--listen", "listen briefly on a redirect port where nothing listens yet")
    .addHelpText(
      "after",
      `
Each path the config promises (outbound redirect, kuma-dp direct, excluded ports and addresses,
DNS, per IP family) is probed with a connection to a documentation address (RFC 5737, RFC 3849)
that nothing answers, so only a redirect to this host can accept it; with DNS redirection, also a
query to each IPv4 nameserver of /etc/resolv.conf, which only --listen's own listener can prove
(the nameserver answers too). verify never changes a rule.

Exit codes: 0 every checked path holds, 1 a path failed or verify could not run, 2 usage or config
error.

Examples:
  kuma-tproxy verify --kuma-dp-user kuma-dp --redirect-dns
  kuma-tproxy verify --config /etc/kuma/tproxy.yaml --listen --json`,
    )
    .action(async (opts: { json?: boolean; listen?: boolean }, cmd: Command) => {
      result.code = await run({
        command: "verify",
        json: opts.json === true,
        listen: opts.listen === true,
        ...collectInputs(cmd),
      });
    });
  addConfigOptions(verify);

  const config = program.command("config")
    .description(
      "print the resolved configuration as YAML; --explain names where each value came from",
    )
    .option("--explain", "print each setting with the source that set it")
    .option(
      "--output <file>",
      "write the config to FILE (under /etc/kuma-tproxy; - prints it) for install --config and kuma-dp run --transparent-proxy-config",
    )
    .addHelpText(
      "after",
      `
Examples:
  kuma-tproxy config --config base.yaml --redirect-dns
  KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT=5353 kuma-tproxy config --explain
  kuma-tproxy config --redirect-dns --output /etc/kuma-tproxy/kuma-dp.yaml
  kuma-tproxy config --redirect-dns --output - > /srv/kuma-dp.yaml`,
    )
    .action(async (opts: { explain?: boolean; output?: string }, cmd: Command) => {
      result.code = await run({
        command: "config",
        explain: opts.explain === true,
        ...(opts.output === undefined ? {} : { output: opts.output }),
        ...collectInputs(cmd),
      });
    });
  addConfigOptions(config);

  program.command("completion")
    .argument("<shell>", "bash or zsh")
    .description("print a shell completion script")
    .addHelpText(
      "after",
      `
Examples:
  kuma-tproxy completion bash > /etc/bash_completion.d/kuma-tproxy
  kuma-tproxy completion zsh > "\${fpath[1]}/_kuma-tproxy"`,
    )
    .action((shell: string) => {
      result.code = runCompletion(program, shell, io);
    });

  // kumactl users type `kumactl version` and `kumactl help`; `help` is commander's own.
  program.command("version")
    .description("print the version (as --version)")
    .action(() => {
      io.out(`${VERSION}\n`);
      result.code = EXIT.OK;
    });
}
