"""wasmplug serve: the control API. Routes added, replaced and deleted while
serving; a bad change refused with its reason and nothing changed; plugin
upload; the Unix socket's mode; the TCP listener's bearer token."""
import json
import socket
import stat

from serve_lib import *


def start(*extra):
    doc = {"access_log": "off", "plugins": {"echo": {"path": fixture("http_echo.wat")}},
           "routes": [{"match": {"path": "/a"}, "plugin": "echo"}]}
    return Server(write_config(doc, "ctl%d.json" % len(extra)), *extra).start()


def test_unix_socket():
    sock = os.path.join(TMP, "control.sock")
    s = start("--control", "unix:" + sock)
    try:
        eq(stat.S_IMODE(os.stat(sock).st_mode), 0o600, "the control socket is 0600")
        st, body = unix_request(sock, "GET", "/config")
        eq(st, 200, "GET /config")
        eq(json.loads(body)["routes"][0]["match"]["path"], "/a", "it returns the live config")
        st, body = unix_request(sock, "GET", "/config/routes/0/plugin")
        eq((st, json.loads(body)), (200, "echo"), "GET of a subtree")

        st, body = unix_request(sock, "POST", "/config/routes",
                                body=json.dumps({"match": {"path": "/b"}, "plugin": "echo"}))
        eq(st, 200, "POST appends a route")
        eq(get(s.port, "/b")[0], 200, "the new route serves at once")

        st, body = unix_request(sock, "PUT", "/config/routes/1/match/path", body='"/c"')
        eq(st, 200, "PUT replaces a subtree")
        eq(get(s.port, "/c")[0], 200, "the replaced route serves")
        eq(get(s.port, "/b")[0], 404, "the old path is gone")

        st, body = unix_request(sock, "DELETE", "/config/routes/1")
        eq(st, 200, "DELETE removes a route")
        eq(get(s.port, "/c")[0], 404, "the deleted route is gone")

        before = unix_request(sock, "GET", "/config")[1]
        st, body = unix_request(sock, "PUT", "/config/routes/0/plugin", body='"missing"')
        eq(st, 422, "a change naming a missing plugin is refused")
        check(b"routes[0].plugin: no plugin 'missing'" in body, "with the reason", body)
        eq(unix_request(sock, "GET", "/config")[1], before, "and nothing changed")
        st, body = unix_request(sock, "PUT", "/config/routes/0", body="{not json")
        eq(st, 400, "a body that is not JSON is refused")
        st, body = unix_request(sock, "PUT", "/config/listen", body='"127.0.0.1:1"')
        eq(st, 422, "listen cannot change while running")
        check(b"restart" in body, "and the reason says so", body)
        eq(get(s.port, "/a")[0], 200, "still serving")

        with open(fixture("http_echo.wat"), "rb") as f:
            wasm = f.read()
        st, body = unix_request(sock, "PUT", "/plugins/uploaded", body=wasm)
        eq(st, 200, "PUT /plugins/NAME stores a plugin")
        st, _ = unix_request(sock, "POST", "/config/routes",
                             body=json.dumps({"match": {"path": "/up"}, "plugin": "uploaded"}))
        eq(st, 200, "a route to the uploaded plugin")
        eq(get(s.port, "/up")[0], 200, "serves the upload")
        st, body = unix_request(sock, "PUT", "/plugins/uploaded", body=b"not wasm")
        eq(st, 422, "a broken upload is refused")
        eq(get(s.port, "/up")[0], 200, "and the old upload keeps serving")
        st, body = unix_request(sock, "PUT", "/plugins/..%2fx", body=wasm)
        check(st in (400, 404), "a bad plugin name is refused", st)
        st, body = unix_request(sock, "GET", "/metrics")
        eq(st, 200, "metrics on the control socket")
        check(b"wasmplug_http_requests_total" in body, "in Prometheus text")
        # A body of ambiguous length is refused before it is read: the DELETE
        # hidden after the first Content-Length's 3 bytes never runs.
        before = unix_request(sock, "GET", "/config")[1]
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.connect(sock)
        raw.settimeout(5)
        raw.sendall(b"PUT /config/routes/0/plugin HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    b"Content-Length: 60\r\n\r\n\"x\"DELETE /config/routes/0 HTTP/1.1\r\n"
                    b"Host: x\r\n\r\n")
        out = read_until_closed(raw)
        raw.close()
        check(out.startswith(b"HTTP/1.1 400"), "two Content-Lengths: 400", out[:80])
        eq(out.count(b"HTTP/1.1 "), 1, "one response, and the connection closed")
        eq(unix_request(sock, "GET", "/config")[1], before, "nothing changed")
    finally:
        s.stop()
    check(not os.path.exists(sock), "the socket is removed at exit")


def test_tcp_token():
    tok = os.path.join(TMP, "token")
    with open(tok, "w") as f:
        f.write("s3cret-token-0123456789\n")
    port = free_port()
    s = start("--control", "127.0.0.1:%d" % port, "--control-token-file", tok)
    try:
        eq(request(port, "GET", "/config")[0], 401, "no token: 401")
        eq(request(port, "GET", "/config", headers={"Authorization": "Bearer wrong"})[0], 401,
           "wrong token: 401")
        eq(request(port, "GET", "/config",
                   headers={"Authorization": "Bearer s3cret-token-0123456789x"})[0], 401,
           "a longer token: 401")
        eq(request(port, "GET", "/config",
                   headers={"Authorization": "Bearer s3cret-token-0123456789"})[0], 200,
           "the right token: 200")
    finally:
        s.stop()
    r = subprocess.run([CLI, "serve", fixture("http_echo.wat"), "--control", "0.0.0.0:%d" % port,
                        "--control-token-file", tok], capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "loopback" in r.stderr, "a non-loopback control listener is refused",
          r.stderr)
    r = subprocess.run([CLI, "serve", fixture("http_echo.wat"), "--control", "127.0.0.1:%d" % port],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "token" in r.stderr, "TCP control without a token is refused",
          r.stderr)


run_tests(globals())
