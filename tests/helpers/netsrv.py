#!/usr/bin/env python3
"""Test servers: netsrv.py PIDFILE ADDR:PORT/PROTO ...

For each ADDR:PORT/tcp, a listener that answers each connection with
"hello from ADDR:PORT" and closes; for each ADDR:PORT/udp, an echo that
answers "echo from ADDR:PORT: <what came>". IPv6 as [ADDR]:PORT. Writes
its pid to PIDFILE once everything is bound. Stops on SIGTERM."""
import os
import selectors
import signal
import socket
import sys


def parse(spec):
    where, proto = spec.rsplit("/", 1)
    host, port = where.rsplit(":", 1)
    fam = socket.AF_INET
    if host.startswith("["):
        host, fam = host[1:-1], socket.AF_INET6
    return fam, host, int(port), proto, where


def main():
    pidfile, specs = sys.argv[1], sys.argv[2:]
    sel = selectors.DefaultSelector()
    for spec in specs:
        fam, host, port, proto, where = parse(spec)
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        if proto == "tcp":
            s.listen(64)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, (proto, where))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(pidfile + ".tmp", pidfile)
    while True:
        for key, _ in sel.select():
            proto, where = key.data
            s = key.fileobj
            try:
                if proto == "tcp":
                    c, _ = s.accept()
                    c.sendall(("hello from %s\n" % where).encode())
                    c.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(b"echo from " + where.encode() + b": " + data, peer)
            except OSError:
                pass


if __name__ == "__main__":
    main()
