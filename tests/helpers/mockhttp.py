"""What the local mocks of the agents' APIs share (mock_openai.py,
mock_anthropic.py, mock_gemini.py): an HTTP/1.1 handler that reads a
request body (chunked or not, gzip or deflate) and sends replies, and the
server's start: PORTFILE gets the port it listens on, LOGFILE the
requests. Each mock subclasses Handler with its own _handle()."""
import gzip
import http.server
import os
import sys
import zlib


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    extra_headers = {}  # sent with every reply

    def log_message(self, fmt, *args):  # no access log on stderr
        pass

    def _body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        else:
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n > 0 else b""
        enc = (self.headers.get("Content-Encoding") or "").lower()
        try:
            if enc == "gzip":
                data = gzip.decompress(data)
            elif enc == "deflate":
                data = zlib.decompress(data)
        except Exception:
            pass
        return data

    def _send(self, code, ctype, payload, extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache")
        for k, v in dict(self.extra_headers, **(extra or {})).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _json(self, code, obj):
        import json
        self._send(code, "application/json", json.dumps(obj).encode("utf-8"))

    def _handle(self):
        raise NotImplementedError

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET


def serve(argv, handler, state, note):
    """argv: PROG PORTFILE LOGFILE [HOST]. state["logfile"] is set before
    the first request; note() says where it listens."""
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: %s PORTFILE LOGFILE [HOST]\n" % argv[0])
        return 2
    portfile, logfile = argv[1], argv[2]
    host = argv[3] if len(argv) == 4 else "127.0.0.1"
    state["logfile"] = logfile
    open(logfile, "a").close()
    srv = http.server.ThreadingHTTPServer((host, 0), handler)
    srv.daemon_threads = True
    port = srv.server_address[1]
    tmp = portfile + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, portfile)
    note("listening on %s:%d" % (host, port))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0
