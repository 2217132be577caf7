/**
 * `kuma-tproxy verify`: the plan of the config on this host (kuma-dp's UID,
 * the families), the probes it calls for (src/verify/paths.ts), real packets
 * (src/verify/run.ts), and the report; cli/ renders it, one line per path.
 * Read-only: it never changes a rule.
 *
 * @module
 */
import type { Resolved } from "../config/resolve.ts";
import type { OpsIo } from "./io.ts";
import { info, warn } from "./log.ts";
import { planInstall } from "./plan.ts";
import { requireRoot } from "./preconditions.ts";
import { withRunLock } from "./run_lock.ts";
import { EXIT } from "./exit_codes.ts";
import { planProbes, RESOLV_CONF } from "../verify/paths.ts";
import { runProbes } from "../verify/run.ts";
import { type VerifyReport, verifyReport, verifySummary } from "../verify/report.ts";

export interface VerifyOptions {
  /** Listen briefly on a redirect port where nothing listens (verify --listen). */
  listen: boolean;
}

/** The report, and its exit code: 0 when every checked path holds, else 1. */
export async function runVerify(
  resolved: Resolved,
  io: OpsIo,
  options: VerifyOptions,
): Promise<{ report: VerifyReport; exitCode: number }> {
  requireRoot(io, "verify", {
    why: "it sends probes as kuma-dp's UID and as another user",
  });
  // Shared, as status: an install or uninstall never runs under the probes.
  return await withRunLock(io, { exclusive: false }, async () => {
    const config = { ...resolved.config, dryRun: false };
    const plan = await planInstall(config, {
      runner: io.runner,
      facts: io.facts,
      origins: resolved.origins,
    });
    for (const w of plan.warnings) warn(io, w);
    const probes = planProbes({
      config,
      kumaDpUid: plan.uid,
      families: plan.families.map((f) => f.family),
      skipped: plan.skipped,
      // The file processes here read, which may not be the one the rules
      // were built from (redirect.dns.resolvConfigPath): a nameserver only
      // this one names is a path the rules miss.
      resolvConf: config.redirect.dns.enabled
        ? await io.facts.nameservers(RESOLV_CONF).then(
          (nameservers) => ({ nameservers }),
          (e) => ({ error: (e as Error).message }),
        )
        : { nameservers: [] },
    });
    const paths = await runProbes(probes, {
      runner: io.runner,
      selfCommand: io.selfCommand,
      listen: options.listen,
    });
    const report = verifyReport([
      ...paths,
      ...probes.unchecked.map((u) => ({ ...u, verdict: "unchecked" as const })),
    ]);
    info(io, verifySummary(report));
    return { report, exitCode: report.state === "ok" ? EXIT.OK : EXIT.FAILURE };
  });
}
