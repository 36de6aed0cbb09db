"""wasmplug serve: 10,000 requests over keep-alive connections, fresh and
reused instances, some failing: the process's RSS stays flat (release
build), and under `make sanitize` LeakSanitizer finds nothing at exit (the
server exits non-zero if it does)."""
import threading

from serve_lib import *

N = int(os.environ.get("WASMPLUG_LEAK_REQUESTS", "10000"))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hammer(port, count):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    bad = 0
    for i in range(count):
        path = ("/fresh", "/reuse", "/reuse", "/trap")[i % 4]
        c.request("POST" if i % 3 == 0 else "GET", path, body=b"x" * (i % 700) if i % 3 == 0 else None)
        r = c.getresponse()
        r.read()
        want = 500 if path == "/trap" else 200
        bad += r.status != want
        if r.will_close:
            c.close()
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.close()
    return bad


def test_no_leak():
    doc = {"access_log": "off", "workers": 2,
           "plugins": {"echo": {"path": fixture("http_echo.wat")}, "trap": {"path": fixture("http_trap.wat")}},
           "routes": [{"match": {"path": "/fresh"}, "plugin": "echo"},
                      {"match": {"path": "/reuse"}, "plugin": "echo", "instances": {"mode": "reuse"}},
                      {"match": {"path": "/trap"}, "plugin": "trap", "instances": {"mode": "reuse"}}]}
    s = Server(write_config(doc)).start(timeout=120)
    warm = hammer(s.port, N // 5)
    r0 = rss_kib(s.proc.pid)
    bad = []
    threads = [threading.Thread(target=lambda: bad.append(hammer(s.port, (N - N // 5) // 2)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r1 = rss_kib(s.proc.pid)
    eq(warm + sum(bad), 0, "every one of %d requests got the expected status" % N)
    print("  RSS after %d requests: %d KiB, after %d: %d KiB" % (N // 5, r0, N, r1))
    if os.environ.get("WASMPLUG_SANITIZED") != "1":
        check(r1 - r0 < 8 * 1024, "RSS flat (grew %d KiB over %d requests)" % (r1 - r0, N - N // 5))
    rc = s.stop()
    eq(rc, 0, "clean exit (LeakSanitizer reports nothing under make sanitize)")
    if rc:
        print(s.log()[-3000:])


run_tests(globals())
