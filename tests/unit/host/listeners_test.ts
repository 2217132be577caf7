import { assertEquals } from "../../assert.ts";
import { listeningTcpPorts, parseListeningPorts } from "../../../src/host/listeners.ts";
import type { Runner } from "../../../src/os/runner.ts";

const SS = `LISTEN 0      128          0.0.0.0:22        0.0.0.0:*
LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*
LISTEN 0      128             [::]:15006        [::]:*
LISTEN 0      128                *:15001           *:*
`;

const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

Deno.test("parseListeningPorts() reads IPv4, IPv6, wildcard and scoped local addresses", () => {
  assertEquals(sorted(parseListeningPorts(SS)), [22, 53, 15001, 15006]);
  assertEquals(sorted(parseListeningPorts("")), []);
});

Deno.test("listeningTcpPorts() asks ss and stays empty when ss fails", async () => {
  const calls: string[][] = [];
  const ok: Runner = {
    run: (cmd, args) => {
      calls.push([cmd, ...args]);
      return Promise.resolve({ code: 0, stdout: SS, stderr: "" });
    },
  };
  assertEquals(sorted(await listeningTcpPorts(ok)), [22, 53, 15001, 15006]);
  assertEquals(calls, [["ss", "-H", "-l", "-t", "-n"]]);
  const failing: Runner = { run: () => Promise.resolve({ code: 1, stdout: "", stderr: "x" }) };
  assertEquals(sorted(await listeningTcpPorts(failing)), []);
  const missing: Runner = { run: () => Promise.reject(new Error("not found")) };
  assertEquals(sorted(await listeningTcpPorts(missing)), []);
});
