"""Connection-rate helper of bench/nftables_bench.ts (stdlib only).

  conn_rate.py server PORT           accepts and closes TCP connections (IPv4) forever;
                                     prints "ready" once listening
  conn_rate.py client ADDR PORT N    opens and closes N connections one after another;
                                     prints connections per second
"""

import socket
import sys
import time


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(1024)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        c.close()


def client(addr, port, n):
    start = time.perf_counter()
    for _ in range(n):
        c = socket.create_connection((addr, port), timeout=5)
        # RST instead of FIN: no TIME_WAIT, so N connections never exhaust ports.
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()
    print(f"{n / (time.perf_counter() - start):.1f}")


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
