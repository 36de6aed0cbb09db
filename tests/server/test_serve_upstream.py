"""wasmplug serve: reverse-proxy routes ("upstream"). A real upstream (a
threaded http.server in this script) behind the real server: requests and
answers forwarded with the header policy of docs/serve.md, 502 for an
upstream down, malformed or too big, 504 past the route's timeout,
connection reuse, metrics and access log, `serve --upstream URL`, config
errors, and shutdown while an exchange runs."""
import hashlib
import http.server
import json
import time
import socketserver
import threading

from serve_lib import *

# Raw answers for x-echo-raw: what a broken upstream might send.
RAW = {
    "garbage": b"this is not HTTP\r\n\r\n",
    "badheader": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nno colon here\r\n\r\nok",
    "short": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part",
    "badstatus": b"HTTP/1.1 999 Nine\r\nContent-Length: 0\r\n\r\n",
}


class Upstream:
    """An HTTP/1.1 upstream that echoes the request as JSON. Request headers
    steer it: x-echo-status (the status), x-echo-sleep (seconds first),
    x-echo-size (a body of that many bytes instead), x-echo-chunked (send it
    chunked), x-echo-close (close without answering), x-echo-raw (a key of
    RAW). It counts the connections it accepts."""

    def __init__(self):
        self.conns = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self):
                super().setup()
                with outer.lock:
                    outer.conns += 1

            def log_message(self, *args):
                pass

            def answer(self):
                h = self.headers
                body = self.rfile.read(int(h.get("content-length") or 0))
                if h.get("x-echo-sleep"):
                    time.sleep(float(h["x-echo-sleep"]))
                if h.get("x-echo-close") or h.get("x-echo-raw"):
                    self.wfile.write(RAW.get(h.get("x-echo-raw"), b""))
                    self.close_connection = True
                    return
                if h.get("x-echo-size"):
                    out = b"x" * int(h["x-echo-size"])
                else:
                    out = json.dumps({
                        "method": self.command, "path": self.path,
                        "headers": [[k.lower(), v] for k, v in h.items()],
                        "body_len": len(body), "body_sha256": hashlib.sha256(body).hexdigest(),
                    }).encode()
                self.send_response(int(h.get("x-echo-status", "200")))
                for k, v in (("content-type", "application/json"), ("x-reply", "yes"),
                             ("set-cookie", "a=1"), ("set-cookie", "b=2"),
                             ("connection", "x-hop"), ("x-hop", "dropped"),
                             ("keep-alive", "timeout=30")):
                    self.send_header(k, v)
                chunked = bool(h.get("x-echo-chunked"))
                self.send_header("transfer-encoding" if chunked else "content-length",
                                 "chunked" if chunked else str(len(out)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if not chunked:
                    self.wfile.write(out)
                    return
                for i in range(0, len(out), 1000):
                    part = out[i:i + 1000]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")

        for m in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            setattr(Handler, "do_" + m, Handler.answer)

        class Quiet(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a client (the proxy) that gave up: expected here

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def connections(self):
        with self.lock:
            return self.conns

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


UP = Upstream()


def echoed(body):
    """The upstream's echo, with its headers as a dict of lists."""
    e = json.loads(body)
    hs = {}
    for k, v in e["headers"]:
        hs.setdefault(k, []).append(v)
    e["h"] = hs
    return e


LOG = os.path.join(TMP, "upstream-access.log")


def config():
    return write_config({
        "access_log": LOG, "metrics_path": "/metrics", "workers": 2,
        "plugins": {"echo": {"path": fixture("http_echo.wat")}},
        "clusters": {"auth": UP.url, "other-svc": "http://localhost:9/"},
        "routes": [
            {"match": {"path": "/plugin"}, "plugin": "echo"},
            {"match": {"path": "/api/..."}, "upstream": UP.url + "/base/", "timeout_ms": 600,
             "max_response_body": 10000},
            {"match": {"path": "/root/...", "methods": ["GET"]}, "upstream": UP.url},
            {"match": {"path": "/down/..."}, "upstream": "http://127.0.0.1:%d" % free_port()},
        ]}, "upstream.json")


S = None


def test_start():
    global S
    S = Server(config()).start()


def test_get_forwarded():
    st, hdrs, body = raw_request(S.port, "GET", "/api/x/y?q=1&r=%20", headers={
        "Host": "front.example:8443", "X-Custom": "kept", "X-Forwarded-For": "10.0.0.1",
        "X-Forwarded-Proto": "https", "Connection": "x-drop", "X-Drop": "1", "TE": "trailers",
        "Keep-Alive": "timeout=5", "Upgrade": "websocket", "Proxy-Connection": "keep-alive"})
    eq(st, 200, "GET through the proxy")
    e = echoed(body)
    eq(e["method"], "GET", "the method is forwarded")
    eq(e["path"], "/base/api/x/y?q=1&r=%20", "path and query appended to the base path, as sent")
    eq(e["h"].get("host"), ["front.example:8443"], "Host is the client's")
    eq(e["h"].get("x-custom"), ["kept"], "an end-to-end header is forwarded")
    for hop in ("x-drop", "te", "keep-alive", "upgrade", "proxy-connection", "connection",
                "transfer-encoding", "expect"):
        check(hop not in e["h"], "hop-by-hop %s is not forwarded" % hop, e["h"])
    eq(e["h"].get("x-forwarded-for"), ["10.0.0.1, 127.0.0.1"], "x-forwarded-for appended")
    eq(e["h"].get("x-forwarded-proto"), ["http"], "x-forwarded-proto set")
    check("accept" not in e["h"] and "content-type" not in e["h"],
          "no header the client did not send (curl's defaults are off)", e["h"])
    names = [k for k, _ in hdrs]
    check(("x-reply", "yes") in hdrs, "the upstream's header comes back", hdrs)
    eq([v for k, v in hdrs if k == "set-cookie"], ["a=1", "b=2"], "repeated headers come back")
    for hop in ("x-hop", "keep-alive"):
        check(hop not in names, "the upstream's hop-by-hop %s is dropped" % hop, hdrs)
    check(("connection", "x-hop") not in hdrs, "the upstream's Connection is not relayed", hdrs)
    st, _, body = raw_request(S.port, "GET", "/api/a/../b%2Fc/./d")
    eq(echoed(body)["path"], "/base/api/a/../b%2Fc/./d", "dot segments and escapes are not touched")


def test_status_and_methods():
    st, hdrs, body = raw_request(S.port, "PUT", "/api/item", body=b"",
                                 headers={"x-echo-status": "201"})
    eq(st, 201, "the upstream's status comes back")
    e = echoed(body)
    eq((e["method"], e["h"].get("content-length")), ("PUT", ["0"]), "PUT with an empty body")
    st, _, body = raw_request(S.port, "DELETE", "/api/item")
    e = echoed(body)
    eq((st, e["method"]), (200, "DELETE"), "DELETE forwarded")
    check("content-length" not in e["h"], "no body, no Content-Length", e["h"])
    st, hdrs, body = raw_request(S.port, "HEAD", "/api/item")
    eq((st, body), (200, b""), "HEAD forwarded, no body back")
    eq(raw_request(S.port, "POST", "/root/x", body=b"z")[0], 405, "the route's methods still apply")


def test_post_body():
    data = os.urandom(300000)
    st, _, body = raw_request(S.port, "POST", "/api/upload?x=1", body=data,
                              headers={"Content-Type": "application/octet-stream"})
    eq(st, 200, "POST of 300 kB")
    e = echoed(body)
    eq((e["method"], e["body_len"]), ("POST", len(data)), "the whole body arrives")
    eq(e["body_sha256"], hashlib.sha256(data).hexdigest(), "byte for byte")
    eq(e["h"].get("content-type"), ["application/octet-stream"], "its Content-Type too")
    check("expect" not in e["h"], "no Expect: 100-continue added", e["h"])
    # A chunked upload reaches the upstream with a length.
    r = subprocess.run(["curl", "-s", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                        S.url("/api/chunked")], input=b"c" * 7000, capture_output=True, timeout=30)
    e = echoed(r.stdout)
    eq((e["body_len"], e["h"].get("content-length")), (7000, ["7000"]),
       "a chunked request body is forwarded whole, with Content-Length")
    check("transfer-encoding" not in e["h"], "and without Transfer-Encoding", e["h"])


def test_upstream_down():
    t = time.time()
    st, hdrs, body = raw_request(S.port, "GET", "/down/x")
    eq(st, 502, "nothing listening upstream: 502")
    check(b"Bad Gateway" in body and len(body) < 200, "a short text body", body)
    check(time.time() - t < 5, "refused at once", time.time() - t)
    check("upstream http://127.0.0.1:" in S.log(), "the log names the upstream", S.log()[-500:])
    eq(get(S.port, "/api/ok")[0], 200, "the next request is fine")


def test_slow_upstream():
    t = time.time()
    st, _, body = raw_request(S.port, "GET", "/api/slow", headers={"x-echo-sleep": "3"})
    took = time.time() - t
    eq(st, 504, "an upstream past the route's timeout_ms: 504")
    check(0.5 < took < 2.5, "504 at about the 600 ms timeout", took)
    check(b"Gateway Timeout" in body, "says so", body)
    eq(get(S.port, "/api/ok")[0], 200, "the next request is fine")


def test_response_limits():
    eq(raw_request(S.port, "GET", "/api/big", headers={"x-echo-size": "10000"})[0], 200,
       "a body at max_response_body passes")
    st, _, body = raw_request(S.port, "GET", "/api/big", headers={"x-echo-size": "10001"})
    eq(st, 502, "a declared length over max_response_body: 502")
    check(b"too large" in body, "says why", body)
    st, _, _ = raw_request(S.port, "GET", "/api/big",
                           headers={"x-echo-size": "50000", "x-echo-chunked": "1"})
    eq(st, 502, "a chunked body over max_response_body: 502")
    st, _, body = raw_request(S.port, "GET", "/api/big",
                              headers={"x-echo-size": "5000", "x-echo-chunked": "1"})
    eq((st, len(body)), (200, 5000), "a chunked body under the cap comes back whole")


def test_malformed_upstream():
    for kind in sorted(RAW):
        st, _, _ = raw_request(S.port, "GET", "/api/raw", headers={"x-echo-raw": kind})
        eq(st, 502, "a malformed upstream response (%s): 502" % kind)
    eq(raw_request(S.port, "GET", "/api/raw", headers={"x-echo-close": "1"})[0], 502,
       "an upstream that closes without answering: 502")
    eq(S.proc.poll(), None, "the server is still running")
    eq(get(S.port, "/plugin")[0], 200, "plugin routes still work")


def test_connection_reuse():
    before = UP.connections()
    n = 30
    c = http.client.HTTPConnection("127.0.0.1", S.port, timeout=10)
    for i in range(n):
        c.request("GET", "/root/k%d" % i)
        r = c.getresponse()
        r.read()
        eq(r.status, 200, "keep-alive request %d" % i)
    c.close()
    for i in range(n):  # a new client connection each time: the worker's handle still reuses
        eq(get(S.port, "/root/n%d" % i)[0], 200, "request on a new connection %d" % i)
    opened = UP.connections() - before
    print("  upstream connections opened: %d" % opened)
    check(opened <= 2, "%d sequential requests opened at most one upstream connection per worker"
          % (2 * n), opened)


def test_metrics_and_log():
    # A request is counted once its response has gone out: the last ones may
    # still be finishing when the client already has its answer.
    deadline = time.time() + 5
    while True:
        st, _, body = get(S.port, "/metrics")
        eq(st, 200, "metrics")
        m = parse_metrics(body.decode())
        if (metric(m, "wasmplug_http_requests_total", route="/root/...", code="2xx") or 0) >= 60 \
                or time.time() > deadline:
            break
        time.sleep(0.05)
    check((metric(m, "wasmplug_http_requests_total", route="/root/...", code="2xx") or 0) >= 60,
          "upstream requests are counted per route", body.decode()[:2000])
    check((metric(m, "wasmplug_http_requests_total", route="/down/...", code="5xx") or 0) >= 1,
          "502s are counted as 5xx")
    check((metric(m, "wasmplug_handler_timeouts_total", route="/api/...") or 0) >= 1,
          "the upstream timeout is counted")
    check(metric(m, "wasmplug_pool_instances", route="/api/...", mode="fresh") is None,
          "no instance pool gauge for an upstream route")
    with open(LOG) as f:
        lines = [json.loads(l) for l in f]
    ups = [l for l in lines if l.get("upstream") == UP.url + "/base"]
    check(ups, "the access log names the upstream", lines[:3])
    slow = [l for l in ups if l["path"] == "/api/slow"]
    check(slow and slow[0]["status"] == 504 and "timed out" in slow[0].get("error", "").lower(),
          "a failed exchange is logged with its error", slow)
    check(all(l["plugin"] is None for l in ups), "no plugin for upstream routes")


def test_stop():
    rc = S.stop()
    check(rc == 0, "exit 0 (and, sanitized, nothing leaked)", S.log()[-3000:])


def test_cli_upstream():
    with Server(None, "--upstream", UP.url + "/pre", "--access-log", "off",
                "--timeout-ms", "400") as s:
        st, _, body = raw_request(s.port, "POST", "/a?b=c", body=b"hi")
        e = echoed(body)
        eq((st, e["method"], e["path"], e["body_len"]), (200, "POST", "/pre/a?b=c", 2),
           "serve --upstream URL proxies every path")
        eq(raw_request(s.port, "GET", "/s", headers={"x-echo-sleep": "2"})[0], 504,
           "--timeout-ms bounds the exchange")


def cli_error(*args):
    r = subprocess.run([CLI, "serve"] + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stderr


def test_cli_errors():
    cases = [
        ((config(), "--upstream", UP.url), "--upstream serves without a plugin or config"),
        ((fixture("http_echo.wat"), "--upstream", UP.url), "--upstream serves without"),
        (("--upstream", "ftp://x:1"), "--upstream ftp://x:1: server config: routes[0].upstream: "
                                      "must be an http:// URL"),
        (("--upstream", UP.url, "--env", "A=1"), "--env does not go with --upstream"),
        (("--upstream", UP.url, "--instances", "reuse"), "--instances does not go with --upstream"),
        ((), "a PLUGIN.wasm, a SERVER.json or --upstream URL is required"),
    ]
    for args, want in cases:
        rc, err = cli_error(*args)
        check(rc != 0, "refused: %s" % (args,))
        check(want in err, "the error says %r" % want, err)
    r = subprocess.run([CLI, "serve", "--help"], capture_output=True, text=True, timeout=30)
    check("--upstream URL" in r.stdout, "serve --help documents --upstream", r.stdout)


def test_config_errors():
    echo = {"path": fixture("http_echo.wat")}

    def route(**kw):
        r = {"match": {"path": "/"}}
        r.update(kw)
        return {"plugins": {"e": echo}, "routes": [r]}

    cases = [
        (route(plugin="e", upstream=UP.url), "routes[0]: give either \"plugin\" or \"upstream\""),
        (route(), "routes[0]: \"plugin\" (a name from \"plugins\") or \"upstream\""),
        (route(upstream="https://127.0.0.1:1"), "routes[0].upstream: only http://"),
        (route(upstream="127.0.0.1:1"), "routes[0].upstream: must be an http:// URL"),
        (route(upstream="http://:80"), "routes[0].upstream: the host must be"),
        (route(upstream="http://a@b:80"), "routes[0].upstream: the host must be"),
        (route(upstream="http://h:0"), "routes[0].upstream: the port must be"),
        (route(upstream="http://h:70000"), "routes[0].upstream: the port must be"),
        (route(upstream="http://h:80x"), "routes[0].upstream: the port must be"),
        (route(upstream="http://h:1/a?b"), "routes[0].upstream: the base path must not"),
        (route(upstream="http://[::1:1"), "routes[0].upstream: an IPv6 host"),
        (route(upstream=UP.url, instances={"mode": "reuse"}),
         "routes[0].instances: only for a plugin route"),
        (route(upstream=UP.url, manifest={}), "routes[0].manifest: only for a plugin route"),
        (route(upstream=UP.url, max_response_body="lots"), "routes[0].max_response_body"),
        ({"clusters": {"a": "http://h:1/path"}}, "clusters.a: must be http://HOST:PORT, without"),
        ({"clusters": {"a": 5}}, "clusters.a: must be a URL string"),
        ({"clusters": {".a": "http://h:1"}}, "clusters..a: a cluster name is"),
        ({"clusters": []}, "clusters: must be an object"),
    ]
    for doc, want in cases:
        rc, err = cli_error(write_config(doc, "bad.json"))
        check(rc != 0, "a bad config is refused (%s)" % want)
        check(want in err, "the error names %r" % want, err)
    # Good ones: an IPv6 upstream, a name, a cluster with a trailing '/'.
    doc = {"access_log": "off", "clusters": {"c": "http://[::1]:9/"},
           "routes": [{"match": {"path": "/a"}, "upstream": "http://[::1]:9/x"},
                      {"match": {"path": "/b"}, "upstream": "http://localhost"}]}
    with Server(write_config(doc, "good.json")) as s:
        eq(get(s.port, "/a")[0], 502, "an IPv6 upstream with nothing there: 502")


def test_control_api_changes():
    """Routes turned from plugin to upstream and between upstreams while serving."""
    other = Upstream()
    sock = os.path.join(TMP, "up-control.sock")
    doc = {"access_log": "off", "plugins": {"echo": {"path": fixture("http_echo.wat")}},
           "routes": [{"match": {"path": "/x/..."}, "plugin": "echo"}]}
    with Server(write_config(doc, "ctl.json"), "--control", "unix:" + sock) as s:
        st, body = unix_request(sock, "PUT", "/config/routes/0",
                                body=json.dumps({"match": {"path": "/x/..."}, "upstream": UP.url}))
        check(st == 200, "a plugin route becomes an upstream route", body)
        eq(echoed(get(s.port, "/x/1")[2])["path"], "/x/1", "it proxies at once")
        st, body = unix_request(sock, "PUT", "/config/routes/0/upstream",
                                body=json.dumps(other.url + "/two"))
        check(st == 200, "the upstream is changed", body)
        eq(echoed(get(s.port, "/x/2")[2])["path"], "/two/x/2", "to the new upstream")
        st, body = unix_request(sock, "PUT", "/config/routes/0/plugin", body='"echo"')
        eq(st, 422, "a route with both is refused, nothing changed")
        check(b"not both" in body, "saying why", body)
        eq(echoed(get(s.port, "/x/3")[2])["path"], "/two/x/3", "the live route is unchanged")
        st, body = unix_request(sock, "PUT", "/config/clusters", body='{"a": "ftp://x"}')
        eq(st, 422, "a bad cluster is refused")
        st, body = unix_request(sock, "PUT", "/config/clusters", body='{"a": "http://h:1"}')
        check(st == 200, "clusters are a config change like any other", body)
    other.close()


def test_shutdown_cancels_exchange():
    s = Server(None, "--upstream", UP.url, "--access-log", "off", "--timeout-ms", "60000",
               "--grace-ms", "300").start()
    out = []

    def slow():
        try:
            out.append(raw_request(s.port, "GET", "/", headers={"x-echo-sleep": "20"})[0])
        except OSError as e:
            out.append(e)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    eq(s.proc.wait(15), 0, "exit 0 after SIGTERM")
    check(time.time() - t0 < 5, "an exchange in flight does not hold the exit past the grace",
          time.time() - t0)
    t.join(5)
    check(out and (out[0] == 503 or isinstance(out[0], OSError)), "the client gets 503 or a close",
          out)


def test_done():
    UP.close()


run_tests(globals())
