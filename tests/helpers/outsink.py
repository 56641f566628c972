#!/usr/bin/env python3
"""Receivers for the daemon's outputs in tests (loopback and unix sockets
only):

  outsink.py http PORTFILE LOGFILE [PORT]   an HTTP server on 127.0.0.1
      (PORT, or any free port); each request's body is appended to
      LOGFILE, one line "METHOD PATH CONTENT-TYPE N-LINES" to LOGFILE.req;
      answers 200. PORTFILE gets the port once it listens.
  outsink.py unix PATH LOGFILE              a unix datagram socket at PATH;
      each datagram is appended to LOGFILE as one line (bytes as they
      came, then a newline).
  outsink.py udp PORTFILE LOGFILE           a UDP socket on 127.0.0.1
      (any free port, written to PORTFILE); each datagram appended to
      LOGFILE as one line.
  outsink.py freeport                       prints a TCP port free on
      127.0.0.1 (nothing listens on it when this exits).
"""
import http.server
import os
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    logfile = None

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        with open(self.logfile, "ab") as f:
            f.write(body)
        with open(self.logfile + ".req", "a") as f:
            f.write("%s %s %s %d\n" % (self.command, self.path,
                                       self.headers.get("Content-Type"),
                                       body.count(b"\n")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    mode = sys.argv[1]
    if mode == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
        return 0
    if mode == "http":
        portfile, logfile = sys.argv[2], sys.argv[3]
        port = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        Handler.logfile = logfile
        open(logfile, "ab").close()
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        with open(portfile + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(portfile + ".tmp", portfile)
        srv.serve_forever()
    if mode in ("unix", "udp"):
        path, logfile = sys.argv[2], sys.argv[3]
        if mode == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(path)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.bind(("127.0.0.1", 0))
            with open(path + ".tmp", "w") as f:
                f.write("%d\n" % s.getsockname()[1])
            os.rename(path + ".tmp", path)
        with open(logfile, "ab", buffering=0) as f:
            while True:
                f.write(s.recv(1 << 17) + b"\n")
    return 2


sys.exit(main())
