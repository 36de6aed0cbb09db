"""wasmplug serve: every failure gets its status, and the next request to the
same route works: trap 500, timeout 504, bad response 500, oversized body 413
(Content-Length, chunked, Expect: 100-continue), malformed request 400, slow
clients cut off; a request whose body framing two readers could read
differently (request smuggling) refused and its connection closed; a looping
handler holds one worker only."""
import socket
import threading

from serve_lib import *


def config():
    return write_config({
        "access_log": "off", "workers": 2,
        "limits": {"header_timeout_ms": 800, "body_timeout_ms": 800},
        "plugins": {"echo": {"path": fixture("http_echo.wat")},
                    "trap": {"path": fixture("http_trap.wat")},
                    "loop": {"path": fixture("http_loop.wat")},
                    "bad": {"path": fixture("http_badresp.wat")}},
        "routes": [{"match": {"path": "/echo"}, "plugin": "echo", "max_body": 1000},
                   {"match": {"path": "/reuse"}, "plugin": "echo", "instances": {"mode": "reuse"}},
                   {"match": {"path": "/trap"}, "plugin": "trap", "instances": {"mode": "reuse"}},
                   {"match": {"path": "/loop"}, "plugin": "loop", "timeout_ms": 300},
                   {"match": {"path": "/bad/..."}, "plugin": "bad"}]})


S = None


def test_start():
    global S
    S = Server(config()).start()


def test_trap_then_next():
    for _ in range(3):
        st, _, body = get(S.port, "/trap")
        eq(st, 500, "a trap answers 500")
    check("plugin 'trap'" in S.log() and "trap" in S.log(), "the trap is logged with the plugin")
    eq(get(S.port, "/echo")[0], 200, "the server still answers after traps")


def test_timeout():
    t = time.time()
    st, _, _ = get(S.port, "/loop")
    took = time.time() - t
    eq(st, 504, "a handler past its timeout answers 504")
    check(0.25 < took < 3, "504 comes at about the route's 300 ms timeout", took)
    eq(get(S.port, "/loop")[0], 504, "the next request to the route runs (and times out) again")
    check("set by routes[3].timeout_ms in the server config" in S.log(),
          "the log names where the limit was set", S.log()[-600:])


def test_bad_response():
    st, _, _ = get(S.port, "/bad/x")
    eq(st, 500, "a response that breaks the encoding answers 500")
    eq(get(S.port, "/echo")[0], 200, "next request fine")


def test_body_limits():
    eq(request(S.port, "POST", "/echo", body=b"a" * 1000)[0], 200, "a body at the cap passes")
    eq(request(S.port, "POST", "/echo", body=b"a" * 1001)[0], 413, "Content-Length over the cap: 413")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                        "Transfer-Encoding: chunked", "--data-binary", "@-", S.url("/echo")],
                       input=b"b" * 5000, capture_output=True, timeout=30)
    eq(r.stdout, b"413", "a chunked body over the cap: 413")
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                        "Transfer-Encoding: chunked", "--data-binary", "@-", S.url("/echo")],
                       input=b"b" * 500, capture_output=True, timeout=30)
    eq(r.stdout, b"200", "a chunked body under the cap: 200")
    # Expect: 100-continue with a declared length over the cap: 413 and no 100.
    s = socket.create_connection(("127.0.0.1", S.port), timeout=5)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(4096)
    s.close()
    check(first.startswith(b"HTTP/1.1 413"), "Expect: 100-continue over the cap gets 413, not 100", first[:60])
    s = socket.create_connection(("127.0.0.1", S.port), timeout=5)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(4096)
    check(first.startswith(b"HTTP/1.1 100"), "Expect: 100-continue under the cap gets 100", first[:60])
    s.sendall(b"hello")
    rest = b""
    while b"\r\n\r\n" not in rest:
        rest += s.recv(4096)
    check(b"200 OK" in rest, "then the answer", rest[:80])
    s.close()
    eq(get(S.port, "/echo")[0], 200, "next request fine")


def raw(data, timeout=5):
    s = socket.create_connection(("127.0.0.1", S.port), timeout=timeout)
    s.sendall(data)
    out = read_until_closed(s)
    s.close()
    return out


def test_malformed():
    for junk in (b"GARBAGE\r\n\r\n", b"GET /echo HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                 b"GET /echo HTTP/1.1\r\nContent-Length: zz\r\nHost: x\r\n\r\n"):
        out = raw(junk)
        check(out == b"" or out.startswith(b"HTTP/1.1 400") or out.startswith(b"HTTP/1.0 400"),
              "a malformed request gets 400 or a closed connection", out[:80])
        check(not out.startswith(b"HTTP/1.1 200"), "and never reaches a handler", junk)
    for bad in (b"GET /echo HTTP/1.1\r\n\r\n",  # HTTP/1.1 without Host (RFC 9112)
                b"GET /echo HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
                b"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n"):
        out = raw(bad)
        check(out.startswith(b"HTTP/1.1 400"), "answered 400: %r" % bad[:40], out[:60])
    eq(get(S.port, "/echo")[0], 200, "next request fine")


def test_framing():
    # Each is refused, and the bytes after its headers are never read as a
    # request: a smuggled GET would otherwise get a second response.
    smuggled = b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    cases = [
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"
         b"abcd" + smuggled, b"400", b"more than one Content-Length"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n"
         b"abcd" + smuggled, b"400", b"more than one Content-Length"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
         b"3\r\nabc\r\n0\r\n\r\n" + smuggled, b"400", b"both Transfer-Encoding and Content-Length"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc" + smuggled,
         b"501", b"only transfer coding served is chunked"),
        (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
         b"0\r\n\r\n" + smuggled, b"501", b"only transfer coding served is chunked"),
        # Refused before routing: a path with no route must not keep the connection either.
        (b"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
         b"ab" + smuggled, b"400", b"more than one Content-Length"),
    ]
    for req, status, why in cases:
        t = time.time()
        out = raw(req, timeout=5)
        check(out.startswith(b"HTTP/1.1 " + status), "answered %s: %r" % (status, req[:70]), out[:80])
        check(why in out, "the answer says why", out[-120:])
        check(b"connection: close" in out.lower(), "and closes the connection", out[:200])
        eq(out.count(b"HTTP/1.1 "), 1, "one response only: nothing after the headers was read "
           "as a request (%r)" % req[:50])
        check(time.time() - t < 4, "at once, without waiting for a body", time.time() - t)
    # Well-framed bodies still reach the handler, chunked (any case) or not.
    out = raw(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
              b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200") and out.endswith(b"abc"), "chunked body echoed", out[-80:])
    out = raw(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    check(out.startswith(b"HTTP/1.1 200") and out.endswith(b"abc"), "sized body echoed", out[-80:])
    eq(get(S.port, "/echo")[0], 200, "next request fine")


def test_slow_clients():
    # Headers never finished: cut after header_timeout_ms.
    t = time.time()
    out = raw(b"GET /echo HTTP/1.1\r\nHost: x\r\n", timeout=10)
    took = time.time() - t
    check(0.5 < took < 4, "a client that stops sending headers is cut after about 0.8 s", took)
    # Headers trickled one line at a time: cut too, though it is never idle.
    s = socket.create_connection(("127.0.0.1", S.port), timeout=10)
    s.sendall(b"GET /echo HTTP/1.1\r\n")
    t = time.time()
    cut = None
    for _ in range(60):
        try:
            s.sendall(b"X-Slow: 1\r\n")
        except OSError:
            cut = time.time() - t
            break
        s.settimeout(0.1)
        try:
            if s.recv(100) == b"":
                cut = time.time() - t
                break
        except socket.timeout:
            pass
        except OSError:
            cut = time.time() - t
            break
    s.close()
    check(cut is not None and cut < 4, "a client trickling headers is cut off", cut)
    # A body trickled a byte at a time: cut after body_timeout_ms.
    s = socket.create_connection(("127.0.0.1", S.port), timeout=10)
    s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n")
    t = time.time()
    cut = None
    for _ in range(60):
        try:
            s.sendall(b"a")
        except OSError:
            cut = time.time() - t
            break
        s.settimeout(0.1)
        try:
            d = s.recv(100)
            if d == b"" or d:
                cut = time.time() - t
                break
        except socket.timeout:
            pass
        except OSError:
            cut = time.time() - t
            break
    s.close()
    check(cut is not None and cut < 4, "a client trickling its body is cut off", cut)
    eq(get(S.port, "/echo")[0], 200, "next request fine")


def test_loop_holds_one_worker():
    results = []
    t = threading.Thread(target=lambda: results.append(get(S.port, "/loop")[0]))
    t.start()
    time.sleep(0.05)
    t0 = time.time()
    for _ in range(10):
        eq(get(S.port, "/echo")[0], 200, "served while another worker runs a looping handler")
    check(time.time() - t0 < 2, "and without waiting for it", time.time() - t0)
    t.join()
    eq(results, [504], "the looping request ends with 504")


def test_stop():
    eq(S.stop(), 0, "exit 0 on SIGTERM")


run_tests(globals())
