"""What the `wasmplug serve` tests share: starting the real server binary on
a free port, real HTTP over sockets (http.client, curl, wrk), and checks.

Each test script is its own ctest entry, run as

    python3 test_serve_NAME.py CLI FIXTURES_DIR PLUGINS_DIR

and defines functions named test_*; run_tests() runs them in order and
exits 1 if any check failed. Every server gets its own temporary
directory and compile cache.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

CLI, FIX, PLUG = ([os.path.abspath(a) for a in sys.argv[1:4]] if len(sys.argv) >= 4
                  else (None, None, None))
FAILURES = []
TMP = tempfile.mkdtemp(prefix="wasmplug-serve-test-")
# A private compile cache: no state from other runs.
os.environ["XDG_CACHE_HOME"] = os.path.join(TMP, "cache")


def check(cond, what, detail=""):
    """One assertion: records a failure (with detail) instead of stopping."""
    if cond:
        return True
    FAILURES.append(what)
    print("  FAIL: %s%s" % (what, ("\n        " + str(detail)) if detail else ""), flush=True)
    return False


def eq(got, want, what):
    return check(got == want, what, "got %r, want %r" % (got, want))


def fixture(name):
    return os.path.join(FIX, name)


def plugin(name):
    return os.path.join(PLUG, name)


class Server:
    """A `wasmplug serve` process: start() waits for its 'listening' line."""

    def __init__(self, target, *args, env=None, timeout=60):
        self.target, self.args, self.env, self.timeout = target, list(args), env, timeout
        self.proc, self.port, self.log_path = None, None, None

    def start(self, timeout=None):
        timeout = timeout or self.timeout
        fd, self.log_path = tempfile.mkstemp(dir=TMP, suffix=".log")
        self.log_file = os.fdopen(fd, "w+")
        # target None: no PLUGIN.wasm or SERVER.json (e.g. serve --upstream URL).
        cmd = ([CLI, "serve"] + ([self.target] if self.target else []) +
               ["--listen", "127.0.0.1:0"] + self.args)
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log_file, env=env)
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(r"listening on http://[^:]+:(\d+)", self.log())
            if m:
                self.port = int(m.group(1))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("server exited %d:\n%s" % (self.proc.returncode, self.log()))
            time.sleep(0.05)
        raise RuntimeError("server did not start:\n" + self.log())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def raw_request(port, method, path, body=None, headers=None, timeout=30):
    """One request on a new connection: (status, [(lower-case name, value)], body
    bytes), every header kept (repeated ones too)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, [(k.lower(), v) for k, v in r.getheaders()], r.read()
    finally:
        c.close()


def request(port, method, path, body=None, headers=None, timeout=30):
    """One request on a new connection: (status, headers dict, body bytes)."""
    st, hdrs, body = raw_request(port, method, path, body, headers, timeout)
    return st, dict(hdrs), body


def free_port():
    """A port with nothing listening on it (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, **kw):
    return request(port, "GET", path, **kw)


def read_until_closed(s):
    """Everything a socket receives until the peer closes it or its timeout
    passes."""
    out = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    return out


def unix_request(sock_path, method, path, body=None, headers=None):
    """An HTTP request over a Unix socket (the control API)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    c = http.client.HTTPConnection("localhost")
    c.sock = s
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    out = r.status, r.read()
    c.close()
    return out


def write_config(doc, name="server.json"):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    return path


def refused_to_start(doc, needle, what, env=None):
    """Checks that a server with config `doc` does not start and that its
    output says `needle`."""
    s = Server(write_config(doc, "refused.json"), env=env)
    try:
        s.start(timeout=60)
    except RuntimeError as e:
        check(needle in str(e), what, str(e)[-600:])
        return
    s.stop()
    check(False, what, "the server started")


def replace_file(src, dst):
    """Replaces dst atomically with a copy of src (as deploy tools do)."""
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.rename(tmp, dst)


def parse_metrics(text):
    """Prometheus text 0.0.4 -> {(name, frozenset(labels)): value}; raises on a bad line."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([0-9.eE+-]+|\+Inf|NaN)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("# TYPE"):
                parts = line.split()
                assert len(parts) == 4 and parts[3] in ("counter", "gauge", "histogram"), line
            continue
        m = line_re.match(line)
        if not m:
            raise ValueError("not a Prometheus sample line: %r" % line)
        labels = frozenset(label_re.findall(m.group(3) or "")) if m.group(3) else frozenset()
        labels = frozenset((k, v) for k, v, _ in labels)
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def run_tests(namespace):
    """Runs every test_* function of the calling module, in file order."""
    if not CLI or not os.access(CLI, os.X_OK):
        print("usage: test_serve_NAME.py CLI FIXTURES_DIR PLUGINS_DIR", file=sys.stderr)
        sys.exit(2)
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    for name, fn in tests:
        print("%s ..." % name, flush=True)
        before = len(FAILURES)
        try:
            fn()
        except Exception:
            FAILURES.append(name)
            print("  FAIL: exception\n" + traceback.format_exc(), flush=True)
        print("%s %s" % (name, "ok" if len(FAILURES) == before else "FAILED"), flush=True)
    shutil.rmtree(TMP, ignore_errors=True)
    print("%d failure(s)" % len(FAILURES))
    sys.exit(1 if FAILURES else 0)
