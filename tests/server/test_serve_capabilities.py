"""wasmplug serve: plugins and routes grant capabilities through their
manifests. A section is checked when the configuration loads: a bad one or
one for a capability the server does not have is refused with the
capability's own message (at start, and through the control API without
touching what runs); a route's capabilities.NAME replaces the plugin's.
A handler counting in a keyvalue bucket (kv-counter.wasm) uses its grant:
two servers on one Redis, or one SQLite file, count together; with the
memory backend each counts alone; without the grant it gets an error that
names it."""
import json
import shutil

from serve_lib import *


def doc(plugin_caps=None, route_caps=None):
    plugin = {"path": fixture("http_echo.wat")}
    if plugin_caps is not None:
        plugin["manifest"] = {"capabilities": plugin_caps}
    route = {"match": {"path": "/echo"}, "plugin": "echo"}
    if route_caps is not None:
        route["manifest"] = {"capabilities": route_caps}
    return {"access_log": "off", "workers": 1, "plugins": {"echo": plugin}, "routes": [route]}


def test_granted():
    caps = {"http": {"allowed_hosts": ["https://api.example.com"]}, "logging": {"level": "warn"},
            "crypto": {}}
    with Server(write_config(doc(caps, {"logging": {"level": "error"}}))) as s:
        st, _, body = request(s.port, "POST", "/echo", body=b"granted")
        eq(st, 200, "a plugin with grants serves")
        check(body.endswith(b"granted"), "its answer (the request echoed)", body[-40:])


def test_refused_at_start():
    refused_to_start(doc({"logging": {"level": "loud"}}), "capabilities.logging.level must be one of",
            "a bad section on the plugin is refused with the capability's message")
    refused_to_start(doc(None, {"http": {"allowed_hosts": ["ftp://x"]}}), "capabilities.http.allowed_hosts",
            "a bad section on the route is refused")
    refused_to_start(doc({"nope": {}}), "grants capability 'nope', which this engine does not have",
            "an unknown capability is refused, named")
    # The route's section replaces the plugin's whole: a good plugin section
    # does not mend a bad route one.
    refused_to_start(doc({"logging": {"level": "warn"}}, {"logging": {"level": 3}}),
            "capabilities.logging.level", "the route's section is the one checked")


def test_refused_by_control_api():
    sock = os.path.join(tempfile.mkdtemp(dir=TMP), "control.sock")
    with Server(write_config(doc({"logging": {"level": "warn"}})), "--control", "unix:" + sock) as s:
        bad = json.dumps(doc({"http": {"allowed_hosts": "https://x"}}))
        st, body = unix_request(sock, "PUT", "/config", body=bad)
        check(400 <= st < 500, "a bad grant through the control API is refused (%d)" % st,
              body[:300])
        check(b"capabilities.http" in body, "the answer names the section", body[:300])
        st, _, _ = request(s.port, "POST", "/echo", body=b"x")
        eq(st, 200, "the running configuration still serves")


def counter_doc(bucket):
    """kv-counter on /count with `bucket` granted as "hits" by the route, and
    on /nogrant without it."""
    return {"access_log": "off", "workers": 1,
            "plugins": {"counter": {"path": plugin("kv-counter.wasm")}},
            "routes": [{"match": {"path": "/count"}, "plugin": "counter",
                        "manifest": {"capabilities": {"keyvalue": {"buckets": {"hits": bucket}}}}},
                       {"match": {"path": "/nogrant"}, "plugin": "counter"}]}


def count(port):
    st, _, body = request(port, "GET", "/count")
    eq(st, 200, "the counter answers")
    return int(body)


def two_servers_count_together(bucket, what):
    cfg = write_config(counter_doc(bucket), "counter.json")
    with Server(cfg) as a, Server(cfg) as b:
        got = [count(s.port) for _ in range(5) for s in (a, b)]
        eq(got, list(range(1, 11)), "%s: two servers count together" % what)


def have_counter():
    if not os.path.exists(plugin("kv-counter.wasm")):
        print("  SKIP: kv-counter.wasm is not built (no guest toolchain)")
        return False
    return True


def test_keyvalue_grant_in_serve():
    if not have_counter():
        return
    with Server(write_config(counter_doc({"backend": "memory"}), "counter.json")) as s:
        eq([count(s.port) for _ in range(3)], [1, 2, 3], "a granted bucket counts")
        st, _, body = request(s.port, "GET", "/nogrant")
        eq(st, 503, "without the grant the increment fails")
        check(b"capabilities.keyvalue.buckets" in body, "the error names the missing grant", body)
    # The memory backend is per process: a second server starts from 1.
    with Server(write_config(counter_doc({"backend": "memory"}), "counter.json")) as s:
        eq(count(s.port), 1, "memory buckets are per server")


def test_shared_sqlite():
    if not have_counter():
        return
    path = os.path.join(tempfile.mkdtemp(dir=TMP), "kv.db")
    two_servers_count_together({"backend": "sqlite", "path": path}, "one SQLite file")


def test_shared_redis():
    if not have_counter():
        return
    redis = shutil.which("redis-server")
    if not redis:
        print("  SKIP: redis-server is not installed (deps/setup.sh installs it)")
        return
    d = tempfile.mkdtemp(dir=TMP)
    port = free_port()
    proc = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        two_servers_count_together({"backend": "redis", "url": "redis://127.0.0.1:%d/0" % port,
                                    "prefix": "serve-test-%d:" % os.getpid()}, "one Redis")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    run_tests(globals())
