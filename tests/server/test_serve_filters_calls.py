"""wasmplug serve: Proxy-Wasm filters that pause, call out and wake up
(examples/proxywasm/README.md): tick-calls (ticks dispatching http_call to
two real cluster servers, one down), auth (a request paused on an
http_call to a real auth server, then resumed or answered 403/503),
postpone (every request paused and resumed from a tick; a request never
resumed answers 504 at the route's timeout) and queue (a sender and a
receiver filter with different vm_id exchanging items through a shared
queue)."""
import re
import threading

from filters_lib import *

UP = echo_upstream("main")


# ---- tick-calls --------------------------------------------------------------------------

def test_tick_calls():
    tick = pw("tick-calls", "go")
    a = Backend(lambda h: (200, [], b"a is fine"))
    b = Backend(lambda h: (503, [], b"b is not"))
    sock = os.path.join(TMP, "tick-control.sock")
    doc = {"access_log": "off",
           "clusters": {"a": a.url, "b": b.url, "down": "http://127.0.0.1:%d" % free_port()},
           "filters": {
               "tick": {"path": tick, "config": {"period_ms": 100,
                                                 "clusters": ["a", "b", "down", "nope"],
                                                 "path": "/status"}},
               # Configured through the VM configuration only (a VM of its own).
               "tick-vm": {"path": tick, "vm_id": "vmconf",
                           "vm_config": {"period_ms": 100, "clusters": ["a"], "path": "/vm"}}},
           # Not in any chain: tick-calls has no HTTP context (the Go SDK panics on a stream);
           # its VMs are made when the configuration is applied and tick from the start.
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url}]}
    s = serve(doc, "--control", "unix:" + sock)
    for line in ("filter 'tick' info: tick-calls: a status=200",
                 "filter 'tick' info: tick-calls: b status=503",
                 "filter 'tick' info: tick-calls: down status=failed",
                 "filter 'tick' warn: tick-calls: nope dispatch failed: "):
        check(wait_log(s, line, timeout=10), "the log has %r" % line, s.log()[-3000:])
    check(wait_for(lambda: any(r["path"] == "/vm" for r in a.requests()), 10),
          "the filter configured by its VM configuration calls a too")
    t0 = a.count()
    time.sleep(1.0)
    calls = a.count() - t0
    # 100 ms ticks, one VM per worker (2) for each of the two filters: about 40 calls in 1 s.
    check(8 <= calls <= 80, "ticks keep running: %d calls to a in 1 s" % calls, calls)
    status_calls = [r for r in a.requests() if r["path"] == "/status"]
    check(status_calls, "a got calls to /status")
    if status_calls:
        r = status_calls[0]
        eq((r["method"], r["h"].get("host"), r["body"]), ("GET", ["a"], b""),
           "an http_call: GET, the cluster name as :authority, no body")
    check(any(r["path"] == "/status" for r in b.requests()), "b got calls to /status too")
    eq(req(s.port, "GET", "/x")[0], 200, "requests are served meanwhile")
    # A live change of the clusters: "down" now points at b.
    st, body = unix_request(sock, "PUT", "/config/clusters/down", body=json.dumps(b.url))
    eq(st, 200, "a cluster changed through the control API")
    check(wait_log(s, "filter 'tick' info: tick-calls: down status=503", timeout=10),
          "the calls to 'down' now reach b", s.log()[-2000:])
    stop(s)
    a.close()
    b.close()


# ---- auth --------------------------------------------------------------------------------

def auth_answer(h):
    who = h.headers.get("authorization", "")
    if who == "Bearer good":
        return 200, [], b"  alice \n"
    if who == "Bearer empty":
        return 200, [], b""
    if who == "Bearer slow":  # past the filter's timeout_ms
        time.sleep(1.5)
        return 200, [], b"too late"
    if who == "Bearer patient":
        time.sleep(1.0)
        return 200, [], b"patient"
    if who == "Bearer teapot":
        return 418, [], b"no"
    return 401, [], b"who are you"


def test_auth():
    auth_srv = Backend(auth_answer)
    go = pw("auth", "go")
    doc = {"access_log": "off", "workers": 1,
           "clusters": {"auth": auth_srv.url, "authdown": "http://127.0.0.1:%d" % free_port()},
           "filters": {"auth": {"path": go, "config": {"cluster": "auth", "path": "/check",
                                                       "timeout_ms": 1000}},
                       "auth-patient": {"path": go, "config": {"cluster": "auth",
                                                               "path": "/check2",
                                                               "timeout_ms": 5000}},
                       "auth-down": {"path": go, "config": {"cluster": "authdown"}},
                       "auth-unknown": {"path": go, "config": {"cluster": "nosuch"}}},
           "routes": [{"match": {"path": "/api/..."}, "upstream": UP.url, "filters": ["auth"]},
                      {"match": {"path": "/patient/..."}, "upstream": UP.url,
                       "filters": ["auth-patient"]},
                      {"match": {"path": "/down/..."}, "upstream": UP.url, "filters": ["auth-down"]},
                      {"match": {"path": "/unknown/..."}, "upstream": UP.url,
                       "filters": ["auth-unknown"]},
                      {"match": {"path": "/free"}, "upstream": UP.url}]}
    s = serve(doc)
    n = UP.count()
    st, _, body = req(s.port, "GET", "/api/x?y=1", headers={"Authorization": "Bearer good",
                                                            "X-Auth-User": "mallory"})
    eq(st, 200, "an authorized request: 200 after the auth call")
    e = echoed(body)
    eq(e["h"].get("x-auth-user"), ["alice"],
       "the upstream sees x-auth-user from the auth server's body (trimmed), not the client's")
    eq(e["path"], "/api/x?y=1", "the request goes on unchanged")
    call = auth_srv.requests()[-1]
    eq((call["method"], call["path"], call["h"].get("host"), call["h"].get("authorization")),
       ("GET", "/check", ["auth"], ["Bearer good"]),
       "the auth server got GET /check, :authority the cluster, the client's authorization")
    st, _, body = req(s.port, "POST", "/api/post", body=b"body while paused",
                      headers={"Authorization": "Bearer good"})
    e = echoed(body)
    eq((st, e["body"], e["h"].get("x-auth-user")), (200, b"body while paused", ["alice"]),
       "a POST: its body reaches the upstream after the pause")
    st, _, body = req(s.port, "GET", "/api/e", headers={"Authorization": "Bearer empty"})
    eq((st, echoed(body)["h"].get("x-auth-user")), (200, [""]), "an empty answer: empty user")
    sent = UP.count()
    for who, what in (("Bearer bad", "a refused token"), (None, "no authorization"),
                      ("Bearer teapot", "another status (418)")):
        st, _, body = req(s.port, "GET", "/api/x",
                          headers={"Authorization": who} if who else {})
        eq((st, body), (403, b"forbidden\n"), "%s: 403 forbidden" % what)
    check("authorization" not in auth_srv.requests()[-2]["h"],
          "no authorization header in the call when the client sent none",
          auth_srv.requests()[-2]["h"])
    eq(UP.count(), sent, "a 403 never reaches the upstream")
    # Many at once: each paused on its own call, each resumed with its own answer.
    res = parallel(lambda i: req(s.port, "GET", "/api/c%d" % i,
                                 headers={"Authorization": "Bearer good" if i % 3 else "Bearer x"}),
                   range(30))
    eq([r[0] for r in res], [200 if i % 3 else 403 for i in range(30)],
       "30 concurrent requests: 200 for the good tokens, 403 for the others")
    eq([echoed(r[2])["path"] for r in res if r[0] == 200],
       ["/api/c%d" % i for i in range(30) if i % 3], "each resumed request is itself")
    # The auth server too slow for timeout_ms 1000: 503.
    t = time.time()
    st, _, body = req(s.port, "GET", "/api/slow", headers={"Authorization": "Bearer slow"})
    took = time.time() - t
    eq((st, body), (503, b"auth unavailable\n"), "an auth call past its timeout: 503")
    check(0.8 < took < 2.5, "after about the call's 1000 ms timeout", took)
    check(wait_log(s, "filter 'auth' warn: auth: call to auth failed"), "logged", s.log()[-1500:])
    # The auth cluster down: 503.
    st, _, body = req(s.port, "GET", "/down/x", headers={"Authorization": "Bearer good"})
    eq((st, body), (503, b"auth unavailable\n"), "the auth cluster down: 503")
    check(wait_log(s, "filter 'auth-down' warn: auth: call to authdown failed"), "logged",
          s.log()[-1500:])
    # A cluster that is not configured: the dispatch fails, 503.
    st, _, body = req(s.port, "GET", "/unknown/x", headers={"Authorization": "Bearer good"})
    eq((st, body), (503, b"auth unavailable\n"), "an unknown cluster: 503")
    check(wait_log(s, "filter 'auth-unknown' warn: auth: dispatch to nosuch failed"), "logged",
          s.log()[-1500:])
    # A paused request does not hold the (only) worker.
    out = []
    th = threading.Thread(target=lambda: out.append(
        req(s.port, "GET", "/patient/x", headers={"Authorization": "Bearer patient"})))
    th.start()
    time.sleep(0.3)
    t = time.time()
    st = req(s.port, "GET", "/free")[0]
    took = time.time() - t
    eq(st, 200, "another request while one waits on its auth call (workers: 1)")
    check(took < 0.5, "is answered at once: the paused request holds no worker", took)
    th.join(10)
    check(out and out[0][0] == 200 and echoed(out[0][2])["h"].get("x-auth-user") == ["patient"],
          "and the paused one completes", out)
    eq(UP.count() - n, 3 + 20 + 2, "the upstream got exactly the authorized requests")
    stop(s)
    auth_srv.close()


# ---- postpone ----------------------------------------------------------------------------

def test_postpone():
    rust = pw("postpone", "rust")
    doc = {"access_log": "off",
           "filters": {"postpone": {"path": rust, "config": {"period_ms": 50}},
                       "never": {"path": rust, "vm_id": "never", "config": {"period_ms": 0}}},
           "routes": [{"match": {"path": "/p/..."}, "upstream": UP.url, "filters": ["postpone"]},
                      {"match": {"path": "/never/..."}, "upstream": UP.url, "filters": ["never"],
                       "timeout_ms": 500}]}
    s = serve(doc)
    st, _, body = req(s.port, "GET", "/p/one")
    e = echoed(body)
    eq((st, e["h"].get("x-postponed")), (200, ["1"]),
       "paused, resumed from the tick: the upstream sees x-postponed: 1")
    st, _, body = req(s.port, "POST", "/p/body", body=b"z" * 5000)
    e = echoed(body)
    eq((st, e["body"], e["h"].get("x-postponed")), (200, b"z" * 5000, ["1"]),
       "a POST paused at its headers: the body follows")
    res = parallel(lambda i: req(s.port, "GET", "/p/c%d" % i), range(40))
    eq([r[0] for r in res], [200] * 40, "40 concurrent postponed requests: all 200")
    eq([echoed(r[2])["h"].get("x-postponed") for r in res], [["1"]] * 40, "all resumed by a tick")
    eq(sorted(echoed(r[2])["path"] for r in res), sorted("/p/c%d" % i for i in range(40)),
       "each is itself")
    wait_for(lambda: sum(int(n) for n in re.findall(
        r"filter 'postpone' info: postpone: resumed (\d+)", s.log())) >= 42, 5)
    resumed = sum(int(n) for n in re.findall(r"filter 'postpone' info: postpone: resumed (\d+)",
                                              s.log()))
    eq(resumed, 42, "the 'postpone: resumed N' log lines add up to the 42 requests")
    check("is gone" not in s.log(), "no context gone", s.log()[-1000:])
    # period_ms 0: no tick, the request stays paused until the route's timeout.
    n = UP.count()
    t = time.time()
    st, _, body = req(s.port, "GET", "/never/x")
    took = time.time() - t
    eq(st, 504, "a request never resumed: 504 at the route's timeout_ms")
    check(0.4 < took < 2.5, "after about 500 ms", took)
    eq(UP.count(), n, "it never reached the upstream")
    eq(req(s.port, "GET", "/p/after")[0], 200, "the server still serves")
    stop(s)


def test_pause_pipelining_and_shutdown():
    """Paused requests and the connection: pipelined requests through a
    pausing filter answered in order; clients that leave while paused do
    not disturb the others; SIGTERM with a request paused: 503, exit 0."""
    rust = pw("postpone", "rust")
    doc = {"access_log": "off", "workers": 1, "limits": {"grace_ms": 300},
           "filters": {"pp": {"path": rust, "config": {"period_ms": 20}},
                       "never": {"path": rust, "vm_id": "never", "config": {"period_ms": 0}},
                       "v": {"path": pw("validate", "rust")}},
           "routes": [{"match": {"path": "/p/..."}, "upstream": UP.url, "filters": ["pp"]},
                      {"match": {"path": "/v"}, "upstream": UP.url, "filters": ["v"]},
                      {"match": {"path": "/never/..."}, "upstream": UP.url, "filters": ["never"],
                       "timeout_ms": 60000}]}
    s = serve(doc)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"GET /p/one HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /p/two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
              b"GET /p/three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        data += d
    c.close()
    eq(data.count(b"HTTP/1.1 200"), 3, "three pipelined requests, each paused: three 200s")
    i1, i2, i3 = data.find(b'"/p/one"'), data.find(b'"/p/two"'), data.find(b'"/p/three"')
    check(0 < i1 < i2 < i3, "answered in order", (i1, i2, i3))
    eq(data.count(b'"x-postponed": ["1"]'), 3, "all three postponed")
    # Local responses in the middle of a pipeline.
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"POST /v HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n[]"
              b"GET /p/mid HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /v HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
              b"POST /v HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\n[")
    data = b""
    while True:
        d = c.recv(65536)
        if not d:
            break
        data += d
    c.close()
    eq(re.findall(rb"HTTP/1.1 (\d+)", data), [b"403", b"200", b"200", b"403"],
       "pipelined: a 403 from a filter, a paused 200, a 200, a 403, in order")
    for _ in range(5):  # clients that give up while paused
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET /never/gone HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.02)
        c.close()
    res = parallel(lambda i: req(s.port, "GET", "/p/k%d" % i), range(10))
    eq([r[0] for r in res], [200] * 10, "the others are served meanwhile (workers: 1)")
    out = []
    th = threading.Thread(target=lambda: out.append(req(s.port, "GET", "/never/wait")))
    th.start()
    time.sleep(0.3)
    t = time.time()
    s.proc.send_signal(signal.SIGTERM)
    rc = s.proc.wait(15)
    took = time.time() - t
    th.join(5)
    eq(rc, 0, "exit 0 after SIGTERM with paused requests")
    check(took < 3, "the paused requests do not hold the exit past the grace (300 ms)", took)
    check(out and out[0][0] == 503 and b"shutting down" in out[0][2],
          "the paused request's client gets 503", out)
    check("Sanitizer" not in s.log(), "no sanitizer report", s.log()[-3000:])
    stop(s, check_exit=False)


def test_client_gone_during_call():
    """Clients that leave while their request waits on an http_call: the
    answer arrives later for a request nobody waits for; the others go on,
    and shutting down with a call in flight answers 503 and exits 0."""
    slow = Backend(lambda h: (time.sleep(0.4), (200, [], b"late"))[1])
    doc = {"access_log": "off", "clusters": {"auth": slow.url}, "limits": {"grace_ms": 200},
           "filters": {"auth": {"path": pw("auth", "go"), "config": {"timeout_ms": 3000}}},
           "routes": [{"match": {"path": "/a"}, "upstream": UP.url, "filters": ["auth"]}]}
    s = serve(doc)
    for _ in range(5):
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\nAuthorization: t\r\n\r\n")
        time.sleep(0.05)
        c.close()
    time.sleep(0.6)  # the calls' answers arrive
    st, _, body = req(s.port, "GET", "/a")
    eq((st, echoed(body)["h"].get("x-auth-user")), (200, ["late"]), "the next request is served")
    out = []
    th = threading.Thread(target=lambda: out.append(req(s.port, "GET", "/a")[:3:2]))
    th.start()
    time.sleep(0.1)
    stop(s)  # exit 0, no sanitizer report
    th.join(5)
    eq(out, [(503, b"503 Service Unavailable: the server is shutting down\n")],
       "a request waiting on its call at shutdown: 503 after the grace")
    slow.close()


def test_reload_while_paused():
    """Requests paused on a tick (postpone) or an http_call (auth) when the
    filters' configuration changes finish on the old version (200, resumed);
    new requests get the new one."""
    slow = Backend(lambda h: (time.sleep(0.5), (200, [], b"slowbob"))[1])
    sock = os.path.join(TMP, "paused-control.sock")
    doc = {"access_log": "off", "clusters": {"auth": slow.url},
           "filters": {"pp": {"path": pw("postpone", "rust"), "config": {"period_ms": 400}},
                       "auth": {"path": pw("auth", "go"), "config": {"timeout_ms": 3000}}},
           "routes": [{"match": {"path": "/p"}, "upstream": UP.url, "filters": ["pp"],
                       "timeout_ms": 3000},
                      {"match": {"path": "/a"}, "upstream": UP.url, "filters": ["auth"],
                       "timeout_ms": 3000}]}
    s = serve(doc, "--control", "unix:" + sock)
    eq(req(s.port, "GET", "/p")[0], 200, "warm")
    out = []

    def go(p):
        r = req(s.port, "GET", p, headers={"Authorization": "x"})
        out.append((p, r[0], echoed(r[2])["h"] if r[0] == 200 else r[2]))
    ths = [threading.Thread(target=go, args=(p,)) for p in ("/p", "/p", "/a", "/a")]
    for t in ths:
        t.start()
    time.sleep(0.15)
    st, body = unix_request(sock, "PUT", "/config/filters/pp/config",
                            body=json.dumps({"period_ms": 20}))
    eq(st, 200, "postpone reconfigured while requests are paused on it")
    st, body = unix_request(sock, "PUT", "/config/filters/auth/config",
                            body=json.dumps({"path": "/new", "timeout_ms": 2000}))
    eq(st, 200, "auth reconfigured while requests wait on its calls")
    for t in ths:
        t.join(10)
    out.sort(key=lambda o: o[0])
    eq([o[:2] for o in out], [("/a", 200), ("/a", 200), ("/p", 200), ("/p", 200)],
       "the paused requests finish")
    eq([o[2].get("x-auth-user") for o in out[:2]], [["slowbob"]] * 2, "auth: resumed with the user")
    eq([o[2].get("x-postponed") for o in out[2:]], [["1"]] * 2, "postpone: resumed by a tick")
    t = time.time()
    eq(req(s.port, "GET", "/p")[0], 200, "a new request")
    check(time.time() - t < 0.3, "resumed at the new 20 ms period", time.time() - t)
    n = slow.count()
    eq(req(s.port, "GET", "/a", headers={"Authorization": "x"})[0], 200, "a new auth request")
    eq([r["path"] for r in slow.requests()[n:]], ["/new"], "calls the new path")
    stop(s)
    slow.close()


# ---- queue -------------------------------------------------------------------------------

def test_queue():
    rust = pw("queue", "rust")
    doc = {"access_log": "off",
           "filters": {"recv": {"path": rust, "vm_id": "receiver-vm",
                                "config": {"role": "receiver", "queue": "events"}},
                       "send": {"path": rust, "vm_id": "sender-vm",
                                "config": {"role": "sender", "vm_id": "receiver-vm",
                                           "queue": "events"}},
                       "send-nowhere": {"path": rust, "vm_id": "sender-vm-2",
                                        "config": {"role": "sender", "vm_id": "receiver-vm",
                                                   "queue": "nosuch"}}},
           "routes": [{"match": {"path": "/q/..."}, "upstream": UP.url, "filters": ["recv", "send"]},
                      {"match": {"path": "/nq/..."}, "upstream": UP.url,
                       "filters": ["send-nowhere"]}]}
    s = serve(doc)
    check(wait_log(s, "filter 'recv' info: queue: registered events as "),
          "the receiver registers its queue at start", s.log()[-1500:])
    paths = ["/q/%d?n=%d" % (i, i) for i in range(20)]
    res = parallel(lambda p: req(s.port, "GET", p), paths, threads=4)
    eq([(r[0], one(r[1], "x-enqueued")) for r in res], [(200, "1")] * 20,
       "20 requests through the sender: x-enqueued: 1")
    eq([one(r[1], "x-filtered-by") for r in res], [None] * 20, "the receiver touches no stream")
    st, hdrs, _ = req(s.port, "POST", "/q/post", body=b"x")
    eq((st, one(hdrs, "x-enqueued")), (200, "1"), "a POST too")
    want = ["GET " + p for p in paths] + ["POST /q/post"]
    got = lambda: re.findall(r"filter 'recv' info: queue: received (.*)", s.log())  # noqa: E731
    wait_for(lambda: len(got()) >= len(want), 5)
    eq(sorted(got()), sorted(want), "the receiver logs every item once ('queue: received M P')")
    st, hdrs, _ = req(s.port, "GET", "/nq/x")
    eq((st, one(hdrs, "x-enqueued")), (200, "0"), "a queue nobody registered: x-enqueued: 0")
    time.sleep(0.2)
    eq(len(got()), len(want), "nothing else received")
    stop(s)


run(globals())
