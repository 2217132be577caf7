"""Client side of the traffic world (stdlib only). Prints one line and exits 0,
or prints "error: <reason>" and exits 1, always within --timeout seconds.

  probe.py tcp ADDR PORT [--source ADDR]   the line the server sent
  probe.py udp ADDR PORT     the reply to one datagram
  probe.py dns SERVER NAME [--type A|AAAA] [--port 53]   the first answer's address
"""

import argparse
import random
import socket
import struct
import sys


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def tcp(addr, port, timeout, source=None):
    bind = (source, 0) if source else None
    with socket.create_connection((addr, port), timeout=timeout, source_address=bind) as s:
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


def udp(addr, port, payload, timeout):
    with socket.socket(family_of(addr), socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(payload, (addr, port))
        return s.recvfrom(4096)[0]


def dns(server, port, name, qtype, timeout):
    code = {"A": 1, "AAAA": 28}[qtype]
    qid = random.randrange(1 << 16)
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.strip(".").split(".")) + b"\0"
    query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", code, 1)
    reply = udp(server, port, query, timeout)
    rid, _, _, ancount = struct.unpack("!HHHH", reply[:8])
    if rid != qid:
        return "error: reply id mismatch"
    if ancount == 0:
        return "error: no answer"
    # Our servers echo the question, then one record whose name is a 2-byte pointer.
    rr = reply[12 + len(qname) + 4:]
    rtype, _, _, rdlen = struct.unpack("!HHIH", rr[2:12])
    family = socket.AF_INET if rtype == 1 else socket.AF_INET6
    return socket.inet_ntop(family, rr[12:12 + rdlen])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["tcp", "udp", "dns"])
    p.add_argument("target")
    p.add_argument("arg", help="port (tcp, udp) or name (dns)")
    p.add_argument("--type", default="A", choices=["A", "AAAA"])
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--source", help="local address to connect from (tcp)")
    a = p.parse_args()
    try:
        if a.mode == "tcp":
            out = tcp(a.target, int(a.arg), a.timeout, a.source)
        elif a.mode == "udp":
            out = udp(a.target, int(a.arg), b"ping\n", a.timeout).decode().strip()
        else:
            out = dns(a.target, a.port, a.arg, a.type, a.timeout)
    except socket.timeout:
        out = "error: timeout"
    except OSError as e:
        out = f"error: {e.strerror or e}"
    print(out)
    sys.exit(1 if out.startswith("error:") else 0)


if __name__ == "__main__":
    main()
