/**
 * Registers every subcommand on the program. Each action lives in its own
 * file, imported when the command runs, so `--version` and `--help` do not
 * load the firewalld client (dbus-next, sax) or the rule builders.
 */
import type { Command } from "commander";
import { addConfigOptions, collectInputs } from "./config_flags.ts";
import { resolveConfig, type Resolved, type ResolveOptions } from "../config/resolve.ts";
import type { CliIo } from "./io.ts";
import { UserError } from "./errors.ts";
import { warn } from "./log.ts";
import { runCompletion } from "./completion_cmd.ts";

/** The optional word that keeps `kumactl install transparent-proxy ...` command lines working. */
const TARGET = "transparent-proxy";

function checkTarget(target: string | undefined): void {
  if (target !== undefined && target !== TARGET) {
    throw new UserError(`unknown target '${target}': the only target is '${TARGET}'`, 2);
  }
}

/** Resolves the config from every source for the command that is running. */
export function resolveFor(
  cmd: Command,
  io: CliIo,
  options: ResolveOptions = {},
): Promise<Resolved> {
  const { configSources, flags, notes } = collectInputs(cmd);
  for (const note of notes) warn(io, note);
  return resolveConfig({
    configSources,
    flags,
    env: io.env,
    readFile: io.readFile,
    readStdin: io.readStdin,
  }, options);
}

export function registerCommands(program: Command, io: CliIo, result: { code: number }): void {
  const install = program.command("install")
    .argument("[target]", `optional '${TARGET}', as in kumactl`)
    .description("install the transparent proxy rules (removing an earlier installation first)")
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
    .action(async (target: string | undefined, _opts: unknown, cmd: Command) => {
      checkTarget(target);
      result.code = await (await import("./install_cmd.ts")).runInstall(
        await resolveFor(cmd, io),
        io,
      );
    });
  addConfigOptions(install);

  const uninstall = program.command("uninstall")
    .argument("[target]", `optional '${TARGET}', as in kumactl`)
    .description(
      "remove every rule and chain this tool or kumactl 2.9+ installed, from iptables and firewalld, and our boot unit",
    )
    .addHelpText(
      "after",
      `
Examples:
  # list what would be removed
  kuma-tproxy uninstall --dry-run
  # remove the rules, from both iptables backends, both families and firewalld
  kuma-tproxy uninstall transparent-proxy`,
    )
    .action(async (target: string | undefined, _opts: unknown, cmd: Command) => {
      checkTarget(target);
      // Lenient: uninstall is the emergency path, a typo must not block it.
      result.code = await (await import("./uninstall_cmd.ts")).runUninstall(
        await resolveFor(cmd, io, { lenient: true }),
        io,
      );
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
      checkTarget(target);
      result.code = await (await import("./status_cmd.ts")).runStatus(
        await resolveFor(cmd, io),
        io,
        { json: opts.json === true },
      );
    });
  addConfigOptions(status);

  const config = program.command("config")
    .description(
      "print the resolved configuration as YAML; --explain names where each value came from",
    )
    .option("--explain", "print each setting with the source that set it")
    .addHelpText(
      "after",
      `
Examples:
  kuma-tproxy config --config base.yaml --redirect-dns
  KUMA_TRANSPARENT_PROXY_REDIRECT_DNS_PORT=5353 kuma-tproxy config --explain`,
    )
    .action(async (opts: { explain?: boolean }, cmd: Command) => {
      result.code = (await import("./config_cmd.ts")).runConfig(await resolveFor(cmd, io), io, {
        explain: opts.explain === true,
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
}
