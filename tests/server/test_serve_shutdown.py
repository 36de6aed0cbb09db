"""wasmplug serve: SIGTERM finishes the requests in flight, then exits 0;
past the grace period, running handlers are interrupted."""
import threading

from serve_lib import *


def test_graceful():
    s = Server(fixture("http_sleep.wat"), "--access-log", "off").start()
    out = []
    t = threading.Thread(target=lambda: out.append(get(s.port, "/")))
    t.start()
    time.sleep(0.2)  # the request is now sleeping in the handler (800 ms)
    s.proc.send_signal(signal.SIGTERM)
    # The listener closes soon after the signal; a loaded machine may take a
    # while to run the server, so poll (connecting only: a request accepted
    # now would hold a worker) while the request in flight still sleeps.
    refused, deadline = False, time.time() + 0.5
    while not refused and time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", s.port), timeout=0.2).close()
            time.sleep(0.02)
        except OSError:
            refused = True
    check(refused, "no new connections are accepted while stopping")
    t.join(10)
    check(out and out[0][0] == 200 and out[0][2] == b"slept", "the request in flight completed",
          out)
    eq(s.proc.wait(10), 0, "exit 0 after SIGTERM")
    check("stopped" in s.log(), "says it stopped", s.log())


def test_grace_expires():
    s = Server(fixture("http_loop.wat"), "--access-log", "off", "--timeout-ms", "60000",
               "--grace-ms", "300").start()
    out = []
    t = threading.Thread(target=lambda: out.append(get(s.port, "/")[0]))
    t.start()
    time.sleep(0.2)
    t0 = time.time()
    s.proc.send_signal(signal.SIGINT)
    rc = s.proc.wait(15)
    eq(rc, 0, "exit 0 after SIGINT")
    check(time.time() - t0 < 5, "a handler that never ends does not hold the exit past the grace",
          time.time() - t0)
    t.join(5)
    check("interrupted 1 request" in s.log(), "it says it interrupted the running request", s.log())


run_tests(globals())
