/**
 * The one executor of an install program (install_program.ts): runs the
 * steps in order, each by its handler; a handler may return an undo, and
 * when a later step fails the undos run, last first, each turning the error
 * into the one to report (saying what was put back). The iptables and the
 * nftables install both run through here.
 *
 * @module
 */

/** Puts back what a step changed after a later step failed; returns the error to report. */
export type Undo = (error: unknown) => Promise<unknown>;

/** A handler per step kind; a backend's executor handles the kinds its programs hold. */
export type Handlers<S extends { kind: string }> = {
  [K in S["kind"]]?: (step: Extract<S, { kind: K }>) => Promise<Undo | void>;
};

/**
 * Runs `steps` with `handlers`; throws the failing step's error as the undos
 * of the steps before it turned it. A step without a handler is a bug: it
 * fails before anything runs.
 *
 * @example
 * ```ts
 * import { runProgram } from "./execute.ts";
 * const done: string[] = [];
 * await runProgram([{ kind: "a" }, { kind: "b" }], {
 *   a: () => Promise.resolve(void done.push("a")),
 *   b: () => Promise.resolve(void done.push("b")),
 * });
 * if (done.join() !== "a,b") throw new Error();
 * ```
 */
export async function runProgram<S extends { kind: string }>(
  steps: readonly S[],
  handlers: Handlers<S>,
): Promise<void> {
  const missing = steps.filter((s) => !handlers[s.kind as S["kind"]]).map((s) => s.kind);
  if (missing.length > 0) throw new Error(`no handler for the step ${missing.join(", ")}`);
  const undos: Undo[] = [];
  try {
    for (const step of steps) {
      const handler = handlers[step.kind as S["kind"]] as (s: S) => Promise<Undo | void>;
      const undo = await handler(step);
      if (undo) undos.push(undo);
    }
  } catch (e) {
    let error = e;
    for (const undo of undos.reverse()) error = await undo(error);
    throw error;
  }
}
