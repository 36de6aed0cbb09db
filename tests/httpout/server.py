#!/usr/bin/env python3
"""The upstream of the outbound HTTP tests (tests/httpout): two HTTP servers
on 127.0.0.1, ports A and B (B stands for "another port"). Prints
"PORTS A B" on stdout, then serves until stdin closes.

  /hello                200 "hello from PORT", X-Reply: hello
  /echo                 200 "METHOD BODY", X-Reply: the request's X-Test header
  /redirect-in          302 to http://127.0.0.1:A/hello
  /redirect-port        302 to http://127.0.0.1:B/hello   (another port)
  /redirect-host        302 to http://localhost:A/hello   (another host)
  /redirect-loop        302 to itself
  /see-other            303 to /echo (a POST becomes a GET)
  /big?n=N              200 with N bytes of 'x'
  /slow?ms=N            waits N ms, then 200 "slow"
"""
import http.server
import sys
import threading
import time
import urllib.parse

PORTS = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        a, b = PORTS
        me = self.server.server_address[1]
        if url.path == "/hello":
            self.send(200, b"hello from %d" % me, [("X-Reply", "hello")])
        elif url.path == "/echo":
            self.send(200, self.command.encode() + b" " + body,
                      [("X-Reply", self.headers.get("X-Test", "-"))])
        elif url.path == "/redirect-in":
            self.send(302, headers=[("Location", "http://127.0.0.1:%d/hello" % a)])
        elif url.path == "/redirect-port":
            self.send(302, headers=[("Location", "http://127.0.0.1:%d/hello" % b)])
        elif url.path == "/redirect-host":
            self.send(302, headers=[("Location", "http://localhost:%d/hello" % a)])
        elif url.path == "/redirect-loop":
            self.send(302, headers=[("Location", "/redirect-loop")])
        elif url.path == "/see-other":
            self.send(303, headers=[("Location", "/echo")])
        elif url.path == "/big":
            self.send(200, b"x" * int(query["n"][0]))
        elif url.path == "/slow":
            time.sleep(int(query["ms"][0]) / 1000)
            self.send(200, b"slow")
        else:
            self.send(404, b"no such path")

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gives up (the timeout tests) resets its connection.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    servers = [Server(("127.0.0.1", 0), Handler) for _ in range(2)]
    for s in servers:
        PORTS.append(s.server_address[1])
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("PORTS %d %d" % tuple(PORTS), flush=True)
    sys.stdin.read()  # until the test closes it (or exits)


if __name__ == "__main__":
    main()
