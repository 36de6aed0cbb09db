"""wasmplug serve: routing (exact beats prefix, longest prefix, methods, 404,
405 with Allow), the request as the handler sees it, and config errors that
name the field."""
import os
import socket
import subprocess

from serve_lib import *


def v201():
    """http_echo.wat answering 201: a second handler to tell routes apart."""
    path = os.path.join(TMP, "echo201.wat")
    with open(fixture("http_echo.wat")) as f:
        text = f.read()
    assert "(i32.const 200)" in text
    with open(path, "w") as f:
        f.write(text.replace("(i32.const 200)", "(i32.const 201)"))
    return path


def test_routes():
    doc = {"access_log": "off",
           "plugins": {"echo": {"path": fixture("http_echo.wat")}, "other": {"path": v201()}},
           "routes": [{"match": {"path": "/x"}, "plugin": "other"},
                      {"match": {"path": "/x/..."}, "plugin": "echo"},
                      {"match": {"path": "/x/y/..."}, "plugin": "other"},
                      {"match": {"path": "/m", "methods": ["POST"]}, "plugin": "echo"},
                      {"match": {"path": "/m", "methods": ["GET", "PUT"]}, "plugin": "other"}]}
    with Server(write_config(doc)) as s:
        eq(get(s.port, "/x")[0], 201, "exact /x beats the prefix /x/...")
        eq(get(s.port, "/x/z")[0], 200, "/x/z goes to the prefix /x/...")
        eq(get(s.port, "/x/y/z")[0], 201, "the longest prefix /x/y/... wins")
        eq(get(s.port, "/x/y")[0], 200, "/x/y is not under /x/y/...")
        eq(request(s.port, "POST", "/m", body=b"1")[0], 200, "POST /m goes to the POST route")
        eq(get(s.port, "/m")[0], 201, "GET /m goes to the GET route")
        eq(request(s.port, "HEAD", "/m")[0], 201, "HEAD goes where GET goes")
        st, h, _ = request(s.port, "DELETE", "/m")
        eq(st, 405, "DELETE /m: 405")
        allow = sorted(x.strip() for x in h.get("allow", "").split(","))
        eq(allow, ["GET", "POST", "PUT"], "405 lists the allowed methods")
        eq(get(s.port, "/nothing")[0], 404, "no route: 404")
        eq(get(s.port, "/")[0], 404, "no route for /: 404")
        st, _, body = get(s.port, "/x/z?q=1&r=%20", headers={"X-Test": "v"})
        check(b"/x/z?q=1&r=%20" in body, "the handler sees path and query as sent", body[:200])
        check(b"x-test" in body and b"X-Test" not in body, "header names arrive lower-cased")
        check(b"GET" in body, "the handler sees the method")


def test_one_plugin_everywhere():
    with Server(fixture("http_echo.wat"), "--access-log", "off") as s:
        for p in ("/", "/a", "/a/b/c?d=e"):
            eq(get(s.port, p)[0], 200, "serve PLUGIN answers every path (%s)" % p)
        eq(request(s.port, "PATCH", "/p", body=b"z")[0], 200, "and every method")


def test_keepalive_and_pipelining():
    with Server(fixture("http_echo.wat"), "--access-log", "off") as s:
        # Three requests in one write: three answers, in order, on one connection.
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                  b"GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            data += d
        c.close()
        eq(data.count(b"HTTP/1.1 200"), 3, "three pipelined requests, three 200s")
        i1, i2, i3 = data.find(b"/one"), data.find(b"/two"), data.find(b"/three")
        check(0 < i1 < i2 < i3, "answered in order", (i1, i2, i3))
        check(b"hello" in data[i2:i3], "the POST's body reached its handler")
        # Keep-alive: many requests on one connection.
        conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
        for i in range(50):
            conn.request("GET", "/k%d" % i)
            r = conn.getresponse()
            body = r.read()
            eq(r.status, 200, "keep-alive request %d" % i)
            check(not r.will_close, "the connection stays open")
        conn.close()


def config_error(doc):
    r = subprocess.run([CLI, "serve", write_config(doc, "bad.json")], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stderr


def test_config_errors():
    echo = {"path": fixture("http_echo.wat")}
    cases = [
        ({"plugins": {"e": echo}, "routes": [{"match": {"pathh": "/"}, "plugin": "e"}]},
         "routes[0].match.pathh"),
        ({"plugins": {"e": echo}, "routes": [{"match": {"path": "/"}, "plugin": "f"}]},
         "routes[0].plugin: no plugin 'f'"),
        ({"plugins": {"e": echo}, "routes": [{"match": {"path": "x"}, "plugin": "e"}]},
         "routes[0].match.path: must start with '/'"),
        ({"listn": "127.0.0.1:1"}, "listn: unknown field"),
        ({"plugins": {"e": echo}, "routes": [{"match": {"path": "/"}, "plugin": "e",
                                              "instances": {"mode": "sometimes"}}]},
         "routes[0].instances.mode"),
        ({"plugins": {"e": echo}, "routes": [{"match": {"path": "/"}, "plugin": "e",
                                              "max_body": "lots"}]}, "routes[0].max_body"),
        ({"plugins": {"e": {"path": fixture("http_echo.wat"), "manifest": {"limits": {"fuel": "x"}}}},
          "routes": [{"match": {"path": "/"}, "plugin": "e"}]}, "fuel"),
        ({"plugins": {"n": {"path": fixture("numeric.wat")}},
          "routes": [{"match": {"path": "/"}, "plugin": "n"}]}, "not an HTTP handler"),
        ({"plugins": {"e": echo}, "routes": [{"match": {"path": "/", "methods": ["G T"]},
                                              "plugin": "e"}]}, "routes[0].match.methods[0]"),
    ]
    for doc, want in cases:
        rc, err = config_error(doc)
        check(rc != 0, "a bad config is refused (%s)" % want)
        check(want in err, "the error names %r" % want, err)


run_tests(globals())
