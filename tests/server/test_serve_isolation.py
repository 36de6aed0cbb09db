"""wasmplug serve: a route whose manifest says "isolation": "process" runs its
handler in worker processes (docs/isolation.md): the same answers as
in-process, limits still apply, a worker killed under the route costs one
500 and the next request works on a fresh worker, and no worker outlives the
server."""
import os

from serve_lib import *


def config():
    iso = {"isolation": "process"}
    return write_config({
        "access_log": "off", "workers": 2,
        "plugins": {"echo": {"path": fixture("http_echo.wat")},
                    "loop": {"path": fixture("http_loop.wat")}},
        "routes": [{"match": {"path": "/iso"}, "plugin": "echo", "manifest": iso,
                    "instances": {"mode": "reuse", "max_idle": 1}},
                   {"match": {"path": "/loop"}, "plugin": "loop", "manifest": iso,
                    "timeout_ms": 300},
                   {"match": {"path": "/sam"}, "plugin": "echo"}]})


def workers(pid):
    """The server's children that are wasmplug workers."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid and b"worker" in cmd:
            out.append(int(d))
    return out


S = None


def test_start():
    global S
    # The worker is this build's wasmplug: the command names itself.
    S = Server(config(), env={"WASMPLUG_WORKER": ""}).start()


def test_same_answer():
    st, _, iso = get(S.port, "/iso")
    eq(st, 200, "an isolated handler answers")
    st, _, inproc = get(S.port, "/sam")
    eq(st, 200, "the in-process route answers")
    # http_echo answers with the request block it was given: the same bytes
    # crossed the worker's socket.
    eq(iso.replace(b"/iso", b"/sam"), inproc, "the same request block both ways")
    check(len(workers(S.proc.pid)) == 1, "one worker for the reused instance", workers(S.proc.pid))


def test_timeout():
    t = time.time()
    eq(get(S.port, "/loop")[0], 504, "a handler past its timeout answers 504 in a worker too")
    check(time.time() - t < 3, "at about the route's 300 ms timeout", time.time() - t)


def test_killed_worker():
    [pid] = workers(S.proc.pid)
    os.kill(pid, signal.SIGKILL)
    st, _, _ = get(S.port, "/iso")
    eq(st, 500, "the request that finds its worker dead answers 500")
    check("was killed by signal 9 (SIGKILL)" in S.log(), "the log names the signal",
          S.log()[-400:])
    eq(get(S.port, "/iso")[0], 200, "the next request works on a fresh worker")
    fresh = workers(S.proc.pid)
    check(len(fresh) == 1 and fresh[0] != pid, "a fresh worker, the dead one reaped", fresh)


def test_stop():
    before = workers(S.proc.pid)
    check(before, "workers run before the stop")
    eq(S.stop(), 0, "exit 0 on SIGTERM")
    end = time.time() + 2
    while time.time() < end and any(os.path.exists("/proc/%d" % p) for p in before):
        time.sleep(0.05)
    left = [p for p in before if os.path.exists("/proc/%d" % p)]
    check(not left, "no worker outlives the server", left)


run_tests(globals())
