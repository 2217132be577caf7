/**
 * The bash completion script of the real CLI, run by a real bash: what it
 * offers after each word, as a user pressing Tab would see it. The zsh
 * script (zsh is not installed here) is checked as text in
 * tests/unit/cli/completion_test.ts.
 */
import { assert, assertEquals } from "../assert.ts";
import { runCli } from "./cli_run.ts";

/** What the script puts in COMPREPLY for a command line whose last word is being typed. */
async function complete(script: string, words: string[], cwd: string): Promise<string[]> {
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      `${script}\nCOMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kuma_tproxy; printf '%s\\n' "\${COMPREPLY[@]}"`,
      "bash",
      "kuma-tproxy",
      ...words,
    ],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").sort();
}

Deno.test("bash completion offers a flag's words, file names only for paths, and no hidden flags", async () => {
  const script = await runCli(["completion", "bash"]);
  assertEquals(script.code, 0, script.stderr);
  const dir = await Deno.makeTempDir({ prefix: "ktp-completion-" });
  try {
    await Deno.writeTextFile(`${dir}/tp.yaml`, "verbose: true\n");
    const c = (...words: string[]) => complete(script.stdout, words, dir);
    assertEquals(await c("install", "--backend", ""), ["iptables", "nftables"]);
    assertEquals(await c("status", "--ip-family-mode", ""), ["dualstack", "ipv4"]);
    assertEquals(await c("completion", ""), ["bash", "zsh"]);
    assertEquals(await c("install", ""), ["transparent-proxy"]);
    assertEquals(await c("install", "--kuma-dp-user", ""), []);
    assertEquals(await c("install", "--redirect-dns-port", "1"), []);
    assertEquals(await c("install", "--config", "t"), ["tp.yaml"]);
    assertEquals(await c("uninstall", "--redirect-dns-resolv-config-path", ""), ["tp.yaml"]);
    assertEquals(await c("config", ""), []);
    assertEquals(await c("help", "st"), ["status"]);
    assertEquals(await c("ver"), ["verify", "version"]);
    assertEquals(await c("veri"), ["verify"]);
    // kumactl's deprecated spelling and its no-op flags stay hidden, as in --help.
    assertEquals(await c("install", "--kuma-dp-u"), ["--kuma-dp-user"]);
    const all = await c("install", "--");
    assert(all.includes("--dry-run") && all.includes("--config"), all.join(" "));
    for (const hidden of ["--kuma-dp-uid", "--experimental-transparent-proxy-engine"]) {
      assert(!all.includes(hidden), `${hidden} offered`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
