import { assertEquals } from "../../assert.ts";
import { listeningTcpPorts, parseListeningPorts } from "../../../src/host/listeners.ts";

const TCP =
  `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:3A9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000  5678        0 2 1 0 100 0 0 10 0
   2: 0200C80A:0016 0100C80A:D431 01 00000000:00000000 02:000A7B2C 00000000     0        0 3 4 0 20 4 30 10 -1
`;
const TCP6 =
  `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:3AA9 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  5678        0 5 1 0 100 0 0 10 0
`;

Deno.test("parseListeningPorts() keeps LISTEN sockets only", () => {
  // 0x16 = 22 (sshd), 0x3A9E = 15006; the established connection on 22 is not a listener.
  assertEquals([...parseListeningPorts(TCP)].sort((a, b) => a - b), [22, 15006]);
});

Deno.test("listeningTcpPorts() merges IPv4 and IPv6 and tolerates a missing table", async () => {
  const files: Record<string, string> = { "/proc/net/tcp": TCP, "/proc/net/tcp6": TCP6 };
  const read = (p: string) =>
    files[p] !== undefined ? Promise.resolve(files[p]) : Promise.reject(new Error("ENOENT"));
  assertEquals([...await listeningTcpPorts(read)].sort((a, b) => a - b), [22, 15006, 15017]);
  delete files["/proc/net/tcp6"];
  assertEquals([...await listeningTcpPorts(read)].sort((a, b) => a - b), [22, 15006]);
});
