/**
 * `nft monitor` in a test's namespace: every change to nf_tables there
 * (our nft table, and the iptables-nft tables too) as one line each, to
 * prove that a command wrote nothing to the kernel.
 *
 * Readiness without a sleep: nft monitor reports only what happens after it
 * has joined the netlink group, which it does not announce; so start()
 * makes a harmless change in a scratch table of its own and waits for its
 * event, again with a new change until one is reported. stop() makes one
 * last change and waits for it: every event of what ran before is then in.
 */
import type { Netns } from "./netns.ts";

/** The scratch table; nothing of the tool's looks at it. */
const SCRATCH = "ktp_monitor_scratch";

export class NftMonitor {
  readonly #lines: string[] = [];
  #wake: () => void = () => {};
  #from = 0;
  readonly #reading: Promise<void>;

  private constructor(private readonly child: Deno.ChildProcess, private readonly ns: Netns) {
    this.#reading = (async () => {
      let rest = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        this.#lines.push(...parts);
        this.#wake();
      }
    })();
  }

  /** Starts `nft monitor` in `ns` and returns once it reports changes. */
  static async start(ns: Netns): Promise<NftMonitor> {
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", ns.name, "nft", "monitor"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const m = new NftMonitor(child, ns);
    try {
      await ns.exec("nft", ["add", "table", "inet", SCRATCH]);
      for (let i = 0; i < 100; i++) {
        await ns.exec("nft", ["add", "set", "inet", SCRATCH, `ready${i}`, "{ type ipv4_addr; }"]);
        // Not joined yet: this event is lost for good; the next change may be seen.
        const at = await m.#waitFor(`ready${i} `, 0, 100);
        if (at >= 0) {
          m.#from = at + 1;
          return m;
        }
      }
      throw new Error("nft monitor reported none of 100 changes");
    } catch (e) {
      await m.#end();
      throw e;
    }
  }

  /**
   * The events since start() other than the scratch table's and the
   * `# new generation` lines, once every earlier event is in; stops the monitor.
   */
  async stop(): Promise<string[]> {
    try {
      await this.ns.exec("nft", ["add", "set", "inet", SCRATCH, "fence", "{ type ipv4_addr; }"]);
      const at = await this.#waitFor("fence ", this.#from, 30_000);
      if (at < 0) throw new Error("nft monitor did not report the fence in 30 s");
      return this.#lines.slice(this.#from, at).filter((l) =>
        l.trim() !== "" && !l.startsWith("# new generation") && !l.includes(SCRATCH)
      );
    } finally {
      await this.#end();
    }
  }

  async #end(): Promise<void> {
    try {
      this.child.kill();
    } catch { /* already gone */ }
    await this.child.status;
    await this.#reading.catch(() => {});
    await this.ns.run("nft", ["delete", "table", "inet", SCRATCH]);
  }

  /** Index of the first line from `from` on holding `text`, waiting up to `ms`; -1 if none came. */
  async #waitFor(text: string, from: number, ms: number): Promise<number> {
    const deadline = Date.now() + ms;
    while (true) {
      const i = this.#lines.findIndex((l, j) => j >= from && l.includes(text));
      if (i >= 0) return i;
      const left = deadline - Date.now();
      if (left <= 0) return -1;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
