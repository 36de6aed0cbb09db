"""wasmplug serve: keyvalue buckets that name no backend ({"hits": {}}) use
the server's default store. Without "keyvalue.default" in the config that is
SQLite in $XDG_STATE_HOME/wasmplug/keyvalue.db, else
~/.local/state/wasmplug/keyvalue.db (its directory made 0700 when a plugin
first needs it), so a counter (kv-counter.wasm) goes on where it stopped
after a restart; "keyvalue.default" names another store (a relative path is
relative to the config file). The default is logged at start, a bad one is
refused naming the field, and a reload does not move running plugins to
another store."""
import json
import stat

from serve_lib import *

# Each server gets its own HOME below; nothing from the caller's environment.
os.environ.pop("XDG_STATE_HOME", None)


def counter_doc(extra=None):
    """kv-counter on /count, granted the bucket "hits" without a backend."""
    d = {"access_log": "off", "workers": 1,
         "plugins": {"counter": {"path": plugin("kv-counter.wasm")}},
         "routes": [{"match": {"path": "/count"}, "plugin": "counter",
                     "manifest": {"capabilities": {"keyvalue": {"buckets": {"hits": {}}}}}}]}
    d.update(extra or {})
    return d


def count(port):
    st, _, body = request(port, "GET", "/count")
    eq(st, 200, "the counter answers")
    return int(body) if st == 200 else body


def have_counter():
    if not os.path.exists(plugin("kv-counter.wasm")):
        print("  SKIP: kv-counter.wasm is not built (no guest toolchain)")
        return False
    return True


def counts_across_restart(cfg, env, db, what):
    """Counts 1, 2, 3, restarts the server, counts 4: the file db holds it."""
    with Server(cfg, env=env) as s:
        eq([count(s.port) for _ in range(3)], [1, 2, 3], "%s: the bucket counts" % what)
        log = s.log()
        check("keyvalue: buckets without \"backend\" use sqlite %s" % db in log,
              "%s: the default is logged at start" % what, log[-800:])
        eq(log.count("keyvalue: buckets without"), 1, "%s: logged once" % what)
    check(os.path.isfile(db), "%s: the counter is in %s" % (what, db))
    with Server(cfg, env=env) as s:
        eq(count(s.port), 4, "%s: after a restart the count goes on" % what)


def test_home_state_dir():
    if not have_counter():
        return
    home = tempfile.mkdtemp(dir=TMP)
    db = os.path.join(home, ".local", "state", "wasmplug", "keyvalue.db")
    cfg = write_config(counter_doc(), "home.json")
    counts_across_restart(cfg, {"HOME": home}, db, "~/.local/state")
    mode = stat.S_IMODE(os.stat(os.path.dirname(db)).st_mode)
    eq(oct(mode), oct(0o700), "the state directory is private")
    eq(oct(stat.S_IMODE(os.stat(db).st_mode)), oct(0o600), "the database file is private")


def test_xdg_state_home():
    if not have_counter():
        return
    home, xdg = tempfile.mkdtemp(dir=TMP), tempfile.mkdtemp(dir=TMP)
    db = os.path.join(xdg, "wasmplug", "keyvalue.db")
    cfg = write_config(counter_doc(), "xdg.json")
    counts_across_restart(cfg, {"HOME": home, "XDG_STATE_HOME": xdg}, db, "$XDG_STATE_HOME")
    check(not os.path.exists(os.path.join(home, ".local")), "HOME is not used then")


def test_no_keyvalue_no_file():
    """A server whose plugins use no default bucket makes no file."""
    home = tempfile.mkdtemp(dir=TMP)
    d = {"access_log": "off", "workers": 1,
         "plugins": {"echo": {"path": fixture("http_echo.wat")}},
         "routes": [{"match": {"path": "/echo"}, "plugin": "echo"}]}
    with Server(write_config(d, "echo.json"), env={"HOME": home}) as s:
        st, _, _ = request(s.port, "POST", "/echo", body=b"x")
        eq(st, 200, "the server serves")
    check(not os.path.exists(os.path.join(home, ".local")), "no state directory was made")


def test_config_default():
    if not have_counter():
        return
    home = tempfile.mkdtemp(dir=TMP)
    cdir = tempfile.mkdtemp(dir=TMP)
    db = os.path.join(cdir, "data", "kv.db")
    cfg = os.path.join(cdir, "server.json")
    with open(cfg, "w") as f:
        json.dump(counter_doc({"keyvalue": {"default": {"backend": "sqlite",
                                                        "path": "data/kv.db"}}}), f)
    with Server(cfg, env={"HOME": home}) as s:
        eq([count(s.port) for _ in range(2)], [1, 2], "the configured default counts")
        log = s.log()
        check("use sqlite %s (keyvalue.default in the server config)" % db in log,
              "the configured default is logged, its relative path resolved", log[-800:])
    with Server(cfg, env={"HOME": home}) as s:
        eq(count(s.port), 3, "the configured file keeps the count across a restart")
    check(os.path.isfile(db), "the file is where the config says (relative to it)")
    check(not os.path.exists(os.path.join(home, ".local")), "the state directory is not used")


def test_memory_default():
    if not have_counter():
        return
    cfg = write_config(counter_doc({"keyvalue": {"default": {"backend": "memory"}}}), "mem.json")
    for _ in range(2):
        with Server(cfg, env={"HOME": tempfile.mkdtemp(dir=TMP)}) as s:
            eq([count(s.port) for _ in range(2)], [1, 2], "a memory default starts afresh")
            check("use memory (keyvalue.default" in s.log(), "it is logged", s.log()[-600:])


def refused(d, needle, what):
    refused_to_start(d, needle, what, env={"HOME": tempfile.mkdtemp(dir=TMP)})


def test_bad_default_refused():
    refused(counter_doc({"keyvalue": {"default": {"backend": "mongo"}}}),
            "server config: keyvalue.default: wp_engine_set_keyvalue_default: spec.backend: "
            "'mongo' is not a backend", "a bad backend is refused at start, named")
    refused(counter_doc({"keyvalue": {"default": {"backend": "sqlite"}}}),
            "spec.path is required for the sqlite backend", "a sqlite default needs a path")
    refused(counter_doc({"keyvalue": {"defualt": {}}}), "keyvalue.defualt: unknown field",
            "a misspelt field is refused")
    refused(counter_doc({"keyvalue": {"default": "sqlite"}}), "keyvalue.default: must be a bucket",
            "the default is an object")


def test_reload_keeps_the_store():
    """The engine's default is fixed when the server starts: other changes
    reload as usual, and a change to keyvalue.default (through the control
    API here) is refused, saying why: the counter stays in its store."""
    if not have_counter():
        return
    home, cdir = tempfile.mkdtemp(dir=TMP), tempfile.mkdtemp(dir=TMP)
    sock = os.path.join(tempfile.mkdtemp(dir=TMP), "control.sock")
    other = os.path.join(tempfile.mkdtemp(dir=TMP), "other.db")
    cfg = os.path.join(cdir, "server.json")
    with open(cfg, "w") as f:
        json.dump(counter_doc({"keyvalue": {"default": {"backend": "sqlite", "path": "kv.db"}}}), f)
    with Server(cfg, "--control", "unix:" + sock, env={"HOME": home}) as s:
        eq([count(s.port) for _ in range(2)], [1, 2], "counting before the changes")
        st, body = unix_request(sock, "PUT", "/config/routes/0/timeout_ms", body="5000")
        eq(st, 200, "a change elsewhere reloads (the default compares equal)")
        eq(count(s.port), 3, "and the counter goes on")
        st, body = unix_request(sock, "PUT", "/config/keyvalue",
                                body=json.dumps({"default": {"backend": "sqlite", "path": other}}))
        eq(st, 422, "a change of keyvalue.default is refused")
        check(b"keyvalue: cannot change while the server runs" in body, "saying why", body)
        eq(count(s.port), 4, "the counter stays in the store it started with")
        check(not os.path.exists(other), "the new default's file is not used")
    check(os.path.isfile(os.path.join(cdir, "kv.db")), "the configured file holds it")


if __name__ == "__main__":
    run_tests(globals())
