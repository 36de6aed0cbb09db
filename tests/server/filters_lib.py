"""What the Proxy-Wasm filter tests of `wasmplug serve` share
(test_serve_filters*.py): the example filters' paths (skipping a test whose
filter was not built), real upstream and cluster servers written here
(threaded http.server), waiting for log lines, filter metrics, and a runner
that knows skips and known bugs (xfail).

Run like every serve test:  python3 test_serve_filters_X.py CLI FIXTURES PLUGINS
"""

import base64
import concurrent.futures
import functools
import http.server
import json
import re
import threading

from serve_lib import *  # noqa: F401,F403  (CLI, PLUG, TMP, Server, check, eq, request...)
import serve_lib

req = raw_request  # (status, [(name, value)], body): repeated headers kept


class Skip(Exception):
    """A test that cannot run here (a filter not built): not a failure."""


SKIPPED = []
XFAILED = []


def pw(name, lang):
    """build/plugins/pw-<name>-<lang>.wasm; Skip if it was not built."""
    path = plugin("pw-%s-%s.wasm" % (name, lang))
    if not os.path.exists(path):
        raise Skip("%s not built (the %s Proxy-Wasm filters are not part of this build)"
                   % (os.path.basename(path), lang))
    return path


def hello():
    path = plugin("http-hello-c.wasm")
    if not os.path.exists(path):
        raise Skip("http-hello-c.wasm not built")
    return path


def xfail(reason):
    """Marks a test as hitting a known server bug: its failures are reported
    as XFAIL (with the reason) instead of failing the run."""
    def deco(fn):
        fn.xfail_reason = reason
        return fn
    return deco


def run(namespace):
    """Like serve_lib.run_tests, plus Skip and @xfail."""
    if not CLI or not os.access(CLI, os.X_OK):
        print("usage: test_serve_NAME.py CLI FIXTURES_DIR PLUGINS_DIR", file=sys.stderr)
        sys.exit(2)
    tests = [(n, f) for n, f in namespace.items() if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
    only = os.environ.get("FILTER_TESTS")  # e.g. FILTER_TESTS=test_body,test_canary
    t_all = time.time()
    for name, fn in tests:
        if only and name not in only.split(","):
            continue
        print("%s ..." % name, flush=True)
        before = len(FAILURES)
        t0 = time.time()
        status = "ok"
        try:
            fn()
        except Skip as e:
            status = "SKIPPED (%s)" % e
            SKIPPED.append(name)
        except Exception:
            FAILURES.append(name)
            print("  FAIL: exception\n" + traceback.format_exc(), flush=True)
        if len(FAILURES) > before:
            status = "FAILED"
            reason = getattr(fn, "xfail_reason", None)
            if reason:
                XFAILED.append((name, FAILURES[before:]))
                del FAILURES[before:]
                status = "XFAIL (known bug: %s)" % reason
        elif getattr(fn, "xfail_reason", None) and not status.startswith("SKIP"):
            status = "ok (XPASS: the known bug seems fixed: %s)" % fn.xfail_reason
        print("%s %s [%.1fs]" % (name, status, time.time() - t0), flush=True)
    for s in list(SERVERS):
        s.stop()
    shutil.rmtree(TMP, ignore_errors=True)
    print("%d failure(s), %d skipped, %d xfail [%.1fs]"
          % (len(FAILURES), len(SKIPPED), len(XFAILED), time.time() - t_all))
    ran = [n for n, _ in tests if not only or n in only.split(",")]
    if not FAILURES and ran and len(SKIPPED) == len(ran):
        sys.exit(77)  # everything skipped (ctest's SKIP_RETURN_CODE)
    sys.exit(1 if FAILURES else 0)


SERVERS = []


def serve(doc_or_target, *args, name="server.json", **kw):
    """Starts a server on a config document (dict) or a target path; stopped at the end."""
    target = write_config(doc_or_target, name) if isinstance(doc_or_target, dict) else doc_or_target
    s = Server(target, *args, **kw).start()
    SERVERS.append(s)
    return s


def stop(s, check_exit=True):
    """Stops a server: SIGTERM, then it must exit 0 with no sanitizer report."""
    rc = s.stop()
    if s in SERVERS:
        SERVERS.remove(s)
    if check_exit:
        log = s.log()
        check(rc == 0, "the server exits 0 after SIGTERM", "rc %r\n%s" % (rc, log[-3000:]))
        check("Sanitizer" not in log and "runtime error:" not in log,
              "no sanitizer report", log[log.find("Sanitizer") - 2000:][:6000])
    return rc


def wait_for(cond, timeout=5.0, step=0.02):
    """Polls cond() until it is true (returns its value) or timeout (returns the last value)."""
    end = time.time() + timeout
    while True:
        v = cond()
        if v or time.time() > end:
            return v
        time.sleep(step)


def wait_log(s, text, timeout=5.0, count=1):
    """Waits until the server's log has `text` (at least `count` times)."""
    return wait_for(lambda: s.log().count(text) >= count, timeout)


def values(hdrs, name):
    """Every value of a header in a (name, value) list, in order."""
    return [v for k, v in hdrs if k == name]


def one(hdrs, name):
    v = values(hdrs, name)
    return v[0] if len(v) == 1 else (None if not v else v)


def parallel(fn, args, threads=16):
    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        return list(ex.map(fn, args))


class Backend:
    """A real HTTP/1.1 server (a thread): `answer(h)` gets the handler with
    .command, .path, .headers and .body (bytes, read whole) and returns
    (status, [(name, value)], body bytes). Every request is recorded in
    .seen as a dict (method, path, headers as {name: [values]}, body)."""

    def __init__(self, answer):
        self.seen = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def handle_one(self):
                n = int(self.headers.get("content-length") or 0)
                self.body = self.rfile.read(n) if n else b""
                hs = {}
                for k, v in self.headers.items():
                    hs.setdefault(k.lower(), []).append(v)
                with outer.lock:
                    outer.seen.append({"method": self.command, "path": self.path, "h": hs,
                                       "body": self.body})
                status, headers, out = answer(self)
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)

        for m in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"):
            setattr(Handler, "do_" + m, Handler.handle_one)

        class Quiet(http.server.ThreadingHTTPServer):
            daemon_threads = True
            # socketserver's default backlog is 5: a burst of connections (30 resumed
            # requests each making an http_call) would lose SYNs and wait 1 s to retry.
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return len(self.seen)

    def requests(self):
        with self.lock:
            return list(self.seen)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def echo_upstream(tag="up"):
    """An upstream that answers 200 with the request as JSON: method, path,
    headers ({name: [values]}, lower-cased), body (base64) and `tag`; it
    also sends `x-reply: yes` and `x-upstream: TAG`. x-echo-status sets the
    status; x-echo-empty adds an empty `x-empty-up` header,
    x-echo-cookies two set-cookie headers."""
    def answer(h):
        hs = {}
        for k, v in h.headers.items():
            hs.setdefault(k.lower(), []).append(v)
        out = json.dumps({"tag": tag, "method": h.command, "path": h.path, "h": hs,
                          "body": base64.b64encode(h.body).decode()}).encode()
        extra = [("x-empty-up", "")] if h.headers.get("x-echo-empty") else []
        if h.headers.get("x-echo-cookies"):
            extra += [("set-cookie", "a=1"), ("set-cookie", "b=2")]
        return (int(h.headers.get("x-echo-status", "200")),
                [("content-type", "application/json"), ("x-reply", "yes"), ("x-upstream", tag)]
                + extra, out)
    return Backend(answer)


def echoed(body):
    """The echo upstream's JSON, with the body decoded."""
    e = json.loads(body)
    e["body"] = base64.b64decode(e["body"])
    return e


def filter_metrics(s, path="/metrics"):
    """The wasmplug_filter_* samples as {NAME: value}, NAME the metric's name
    as the filter spelt it (the sample's `name` label, docs/serve.md), with
    `_count` / `_sum` added for a summary's samples; and the raw text."""
    st, _, body = req(s.port, "GET", path)
    text = body.decode()
    out = {}
    sample = re.compile(r'^(wasmplug_filter_[A-Za-z0-9_:]*)\{name="((?:[^"\\]|\\.)*)"\} (\S+)$')
    for line in text.splitlines():
        m = sample.match(line)
        if m:
            family, name, value = m.groups()
            suffix = next((x for x in ("_count", "_sum") if family.endswith(x)
                           and "# TYPE %s summary" % family[:-len(x)] in text), "")
            out[name + suffix] = float(value)
    return out, text
