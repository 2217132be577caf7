"""Stand-in sidecar and plain services for the traffic world (stdlib only).

Modes (every listener binds IPv4 0.0.0.0 and IPv6 ::, each on its own socket):

  sidecar.py [--name N] [--outbound 15001] [--inbound 15006] [--dns 15053]
      TCP listeners reply "N:PORT orig=ADDR:PORT", the original destination
      read with SO_ORIGINAL_DST: that is what proves a REDIRECT happened and
      where the connection was meant to go. The DNS port answers every A/AAAA
      query with STANDIN_A / STANDIN_AAAA.
  sidecar.py --serve tcp|udp PORT NAME
      A real service: replies "NAME" (to a TCP connection or a UDP datagram).
  sidecar.py --upstream-dns PORT
      A real resolver: answers every A/AAAA query with UPSTREAM_A / UPSTREAM_AAAA,
      so a test can tell who answered.

Prints "ready" on stdout once every socket is bound; errors go to stderr.
"""

import argparse
import socket
import struct
import sys
import threading

# linux/netfilter_ipv4.h: SO_ORIGINAL_DST; ip6tables uses the same number at SOL_IPV6.
SO_ORIGINAL_DST = 80
SOL_IPV6 = 41

STANDIN_A, STANDIN_AAAA = "10.99.99.99", "fd99::99"
UPSTREAM_A, UPSTREAM_AAAA = "10.88.88.88", "fd88::88"


def bind_both(kind, port):
    """Binds one IPv4 and one IPv6 socket (IPV6_V6ONLY, so they do not clash)."""
    socks = []
    for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(family, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        if kind == socket.SOCK_STREAM:
            s.listen(64)
        socks.append(s)
    return socks


def original_dst(conn):
    """The pre-NAT destination from conntrack, as "addr:port" or "[addr]:port"."""
    try:
        if conn.family == socket.AF_INET:
            raw = conn.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)  # sockaddr_in
            port, addr = struct.unpack("!H", raw[2:4])[0], socket.inet_ntop(socket.AF_INET, raw[4:8])
            return f"{addr}:{port}"
        raw = conn.getsockopt(SOL_IPV6, SO_ORIGINAL_DST, 28)  # sockaddr_in6
        port, addr = struct.unpack("!H", raw[2:4])[0], socket.inet_ntop(socket.AF_INET6, raw[8:24])
        return f"[{addr}]:{port}"
    except OSError as e:  # no conntrack entry: say so rather than guess
        return f"unknown({e.errno})"


def serve_tcp(sock, reply):
    """Accept loop; `reply(conn)` builds the one line sent back before closing."""
    while True:
        conn, _ = sock.accept()
        try:
            conn.sendall((reply(conn) + "\n").encode())
        except OSError as e:
            print(f"sidecar: reply failed: {e}", file=sys.stderr)
        finally:
            conn.close()


def serve_udp(sock, reply):
    while True:
        data, peer = sock.recvfrom(4096)
        out = reply(data)
        if out is not None:
            sock.sendto(out, peer)


def dns_answer(query, a, aaaa):
    """A minimal DNS response: the question echoed and one A or AAAA record."""
    if len(query) < 12:
        return None
    end = 12
    while end < len(query) and query[end] != 0:  # skip the QNAME labels
        end += query[end] + 1
    qtype, _ = struct.unpack("!HH", query[end + 1:end + 5])
    question = query[12:end + 5]
    rdata = {1: socket.inet_pton(socket.AF_INET, a), 28: socket.inet_pton(socket.AF_INET6, aaaa)}
    answers = b""
    if qtype in rdata:
        # 0xc00c points back at the QNAME in the question section.
        answers = struct.pack("!HHHIH", 0xC00C, qtype, 1, 5, len(rdata[qtype])) + rdata[qtype]
    header = struct.pack("!HHHHHH", struct.unpack("!H", query[:2])[0], 0x8180, 1,
                         1 if answers else 0, 0, 0)
    return header + question + answers


def start(socks, loop, reply):
    for s in socks:
        threading.Thread(target=loop, args=(s, reply), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="sidecar")
    p.add_argument("--outbound", type=int, default=15001)
    p.add_argument("--inbound", type=int, default=15006)
    p.add_argument("--dns", type=int, default=15053)
    p.add_argument("--serve", nargs=3, metavar=("PROTO", "PORT", "NAME"))
    p.add_argument("--upstream-dns", type=int, metavar="PORT")
    args = p.parse_args()

    if args.serve:
        proto, port, name = args.serve
        if proto == "tcp":
            start(bind_both(socket.SOCK_STREAM, int(port)), serve_tcp, lambda c: name)
        elif proto == "udp":
            start(bind_both(socket.SOCK_DGRAM, int(port)), serve_udp, lambda d: (name + "\n").encode())
        else:
            p.error(f"--serve: unknown protocol '{proto}' (expected tcp or udp)")
    elif args.upstream_dns:
        start(bind_both(socket.SOCK_DGRAM, args.upstream_dns), serve_udp,
              lambda q: dns_answer(q, UPSTREAM_A, UPSTREAM_AAAA))
    else:
        for port in (args.outbound, args.inbound):
            start(bind_both(socket.SOCK_STREAM, port), serve_tcp,
                  lambda c, port=port: f"{args.name}:{port} orig={original_dst(c)}")
        start(bind_both(socket.SOCK_DGRAM, args.dns), serve_udp,
              lambda q: dns_answer(q, STANDIN_A, STANDIN_AAAA))
    print("ready", flush=True)
    threading.Event().wait()  # the world stops us with SIGTERM


if __name__ == "__main__":
    main()
