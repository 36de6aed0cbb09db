"""wasmplug serve: Proxy-Wasm filters that say no, transform, fail or refuse
to start (examples/proxywasm/README.md): JSON body validation with 403/413
local responses (Go and Rust), the foreign function `compress` (the
upstream gets zlib data), a filter that panics or loops (500 for that
request only, fail_open, the manifest's per-callback timeout), and the
config filter (raw VM and plugin configuration; a VM configuration "fail"
refused at start, by the control API and by the file watch, the old
configuration serving on)."""
import re
import zlib

from filters_lib import *

UP = echo_upstream("main")


# ---- validate -----------------------------------------------------------------------------

def test_validate():
    doc = {"access_log": "off", "filters": {}, "routes": []}
    for lang in ("go", "rust"):
        doc["filters"]["v-" + lang] = {"path": pw("validate", lang),
                                       "config": {"required": ["id", "name"]}}
        doc["filters"]["any-" + lang] = {"path": pw("validate", lang)}
        doc["routes"] += [{"match": {"path": "/%s/..." % lang}, "upstream": UP.url,
                           "filters": ["v-" + lang]},
                          {"match": {"path": "/any-%s/..." % lang}, "upstream": UP.url,
                           "filters": ["any-" + lang]}]
    s = serve(doc)
    for lang in ("go", "rust"):
        def post(body, path="/%s/x" % lang):
            return req(s.port, "POST", path, body=body, headers={"Content-Type": "application/json"})
        good = b'{"id": 1, "name": "x", "extra": [1, 2]}'
        st, _, body = post(good)
        e = echoed(body)
        eq((st, e["body"]), (200, good), "%s: a valid body passes unchanged" % lang)
        st, _, body = post(b'{"name": null, "id": 0}')
        eq(st, 200, "%s: a key present with null counts as present" % lang)
        n = UP.count()
        for data, want, what in (
                (b'{"id": 1}', b"missing key: name\n", "a missing key"),
                (b'{"other": 1}', b"missing key: id\n", "the first missing key, in config order"),
                (b"[1, 2]", b"invalid json\n", "an array"),
                (b'"id"', b"invalid json\n", "a string"),
                (b"null", b"invalid json\n", "null"),
                (b'{"id": 1, "name": ', b"invalid json\n", "cut JSON"),
                (b"not json at all", b"invalid json\n", "not JSON")):
            st, hdrs, body = post(data)
            eq((st, body), (403, want), "%s: %s: 403 %r" % (lang, what, want))
        st, _, body = req(s.port, "GET", "/%s/x" % lang)
        eq((st, body), (403, b"invalid json\n"), "%s: no body: 403 invalid json" % lang)
        big = b'{"id": 1, "name": "' + b"a" * (1 << 20) + b'"}'
        st, _, body = post(big)
        eq((st, body), (413, b"body too large\n"), "%s: a body over 1 MiB: 413" % lang)
        eq(UP.count(), n, "%s: no rejected request reached the upstream" % lang)
        st, _, body = post(b'{"whatever": true}', "/any-%s/x" % lang)
        eq(st, 200, "%s: no required keys: any object passes" % lang)
        st, _, body = post(b"[]", "/any-%s/x" % lang)
        eq(st, 403, "%s: but still an object" % lang)
        # Concurrent mix.
        res = parallel(lambda i: post(good if i % 2 else b'{"id": 2}'), range(20))
        eq([r[0] for r in res], [200 if i % 2 else 403 for i in range(20)],
           "%s: 20 concurrent, valid and not" % lang)
    stop(s)


# ---- foreign ------------------------------------------------------------------------------

def test_foreign():
    doc = {"access_log": "off",
           "filters": {"zip": {"path": pw("foreign", "rust")}},
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url, "filters": ["zip"]}]}
    s = serve(doc)
    for data in (b"hello hello hello hello " * 400, os.urandom(50000), b"x"):
        st, _, body = req(s.port, "POST", "/z", body=data,
                          headers={"Content-Type": "text/plain"})
        e = echoed(body)
        eq(st, 200, "POST %d bytes through the compress filter" % len(data))
        got = e["body"]
        try:
            plain = zlib.decompress(got)
        except zlib.error as ex:
            plain = ex
        eq(plain, data, "the upstream gets zlib data that decompresses to the body (%d bytes)"
           % len(data))
        eq(e["h"].get("x-compressed-size"), [str(len(got))],
           "x-compressed-size is the compressed length (set from the body callback)")
        eq(e["h"].get("content-length"), [str(len(got))], "Content-Length is the new length")
        eq(e["h"].get("content-type"), ["text/plain"], "other headers pass")
    check(len(UP.requests()[-3]["body"]) < 2000, "repetitive text really shrinks",
          len(UP.requests()[-3]["body"]))
    st, _, body = req(s.port, "GET", "/nobody")
    e = echoed(body)
    eq((st, e["body"], "x-compressed-size" in e["h"]), (200, b"", False),
       "a request without a body is not touched")
    check("foreign: compress failed" not in s.log(), "no failure logged", s.log()[-1000:])
    stop(s)


# ---- panic --------------------------------------------------------------------------------

def test_panic():
    doc = {"access_log": "stderr", "filters": {}, "routes": [], "workers": 2}
    for lang in ("go", "rust"):
        path = pw("panic", lang)
        doc["filters"].update({
            "p-" + lang: {"path": path},
            "open-" + lang: {"path": path, "vm_id": "open", "fail_open": True},
            "loop-" + lang: {"path": path, "vm_id": "loop", "manifest": {"limits": {"timeout_ms": 200}}},
        })
        doc["routes"] += [
            {"match": {"path": "/%s/..." % lang}, "upstream": UP.url, "filters": ["p-" + lang]},
            {"match": {"path": "/open-%s/..." % lang}, "upstream": UP.url, "filters": ["open-" + lang]},
            {"match": {"path": "/loop-%s/..." % lang}, "upstream": UP.url, "filters": ["loop-" + lang]},
        ]
    s = serve(doc)
    for lang in ("go", "rust"):
        st, hdrs, _ = req(s.port, "GET", "/%s/ok" % lang)
        eq((st, one(hdrs, "x-panic-filter")), (200, "ok"), "%s: a normal request" % lang)
        n = UP.count()
        st, _, body = req(s.port, "GET", "/%s/boom" % lang, headers={"X-Panic": "1"})
        eq(st, 500, "%s: x-panic: 500 for that request" % lang)
        check(b"filter" in body, "%s: a short text body" % lang, body)
        eq(UP.count(), n, "%s: the request did not reach the upstream" % lang)
        for i in range(3):
            st, hdrs, _ = req(s.port, "GET", "/%s/after%d" % (lang, i))
            eq((st, one(hdrs, "x-panic-filter")), (200, "ok"),
               "%s: the next request is filtered normally (fresh VM) #%d" % (lang, i))
        # fail_open: the failing filter is skipped, the request goes on.
        st, hdrs, body = req(s.port, "GET", "/open-%s/boom" % lang, headers={"X-Panic": "1"})
        eq(st, 200, "%s: fail_open: the request passes" % lang)
        eq(echoed(body)["path"], "/open-%s/boom" % lang, "%s: to the upstream" % lang)
        st, hdrs, _ = req(s.port, "GET", "/open-%s/ok" % lang)
        eq((st, one(hdrs, "x-panic-filter")), (200, "ok"), "%s: fail_open, then normal" % lang)
        # x-loop with limits.timeout_ms 200: stopped, 500 quickly.
        t = time.time()
        st, _, _ = req(s.port, "GET", "/loop-%s/x" % lang, headers={"X-Loop": "1"})
        took = time.time() - t
        eq(st, 500, "%s: a filter looping past its 200 ms callback timeout: 500" % lang)
        check(took < 2.0, "%s: quickly (%.2f s)" % (lang, took), took)
        st, hdrs, _ = req(s.port, "GET", "/loop-%s/y" % lang)
        eq((st, one(hdrs, "x-panic-filter")), (200, "ok"), "%s: the next request is OK" % lang)
        # A mix at once: only the panicking requests fail.
        res = parallel(lambda i: req(s.port, "GET", "/%s/m%d" % (lang, i),
                                     headers={"X-Panic": "1"} if i % 4 == 0 else {}), range(24))
        eq([r[0] for r in res], [500 if i % 4 == 0 else 200 for i in range(24)],
           "%s: 24 concurrent, every 4th panicking: only those answer 500" % lang)
    log = s.log()
    check(re.search(r"filter 'p-rust' error: panicked at .*boom", log, re.S),
          "rust: the SDK's panic message is logged (CRITICAL as error)", log[-3000:])
    check(re.search(r"filter 'p-go' error: (panic: )?boom$", log, re.M),
          "go: the panic message on stderr is logged (at ERROR)", log[-3000:])
    entries = [json.loads(l) for l in log.splitlines() if l.startswith("{")]
    failed = [e for e in entries if e["status"] == 500 and e["path"].startswith("/rust/boom")]
    check(failed and "p-rust" in failed[0].get("error", "")
          and "trapped" in failed[0].get("error", ""),
          "the access log's error names the filter and says it trapped", failed)
    stop(s)


def test_loop_without_limit():
    """A filter looping forever without a per-callback limit is still bounded:
    by the route's timeout_ms (an answer, 500 or 504, about then), and at
    shutdown by grace_ms (handlers are interrupted after it, docs/serve.md)."""
    doc = {"access_log": "off", "workers": 2, "limits": {"grace_ms": 300},
           "filters": {"p": {"path": pw("panic", "rust")}},
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url, "filters": ["p"],
                       "timeout_ms": 1000}]}
    s = serve(doc)
    t = time.time()
    try:
        st = req(s.port, "GET", "/", headers={"X-Loop": "1"}, timeout=5)[0]
    except OSError as e:
        st = repr(e)
    took = time.time() - t
    check(st in (500, 504), "an answer (500 or 504) for the looping request", st)
    check(took < 3, "about the route's 1000 ms timeout", took)
    eq(req(s.port, "GET", "/ok")[0], 200, "the next request is OK")
    t = time.time()
    s.proc.send_signal(signal.SIGTERM)
    try:
        rc = s.proc.wait(5)
    except subprocess.TimeoutExpired:
        rc = "still running 5 s after SIGTERM (grace_ms 300)"
        s.proc.kill()
        s.proc.wait()
    eq(rc, 0, "SIGTERM: exit 0 soon after the grace")
    stop(s, check_exit=False)


def test_panic_go_log_line():
    """The Go runtime writes its panic message to stderr in pieces
    ("panic: ", "boom", "\\n"...): the host should log whole lines."""
    doc = {"access_log": "off",
           "filters": {"p": {"path": pw("panic", "go")}},
           "routes": [{"match": {"path": "/..."}, "upstream": UP.url, "filters": ["p"]}]}
    s = serve(doc)
    eq(req(s.port, "GET", "/", headers={"X-Panic": "1"})[0], 500, "500")
    check(wait_log(s, "filter 'p' error: panic: boom\n", timeout=2),
          "the log has the line `filter 'p' error: panic: boom`",
          "\n".join([l for l in s.log().splitlines() if "filter 'p'" in l][:6]))
    stop(s)


# ---- config -------------------------------------------------------------------------------

def config_doc(vm_go="vm go", vm_rust=" vm\nrust ", plugin_rust=None):
    return {"access_log": "off",
            "filters": {"cg": {"path": pw("config", "go"), "vm_id": "g", "vm_config": vm_go,
                               "config": "plugin go"},
                        "cr": {"path": pw("config", "rust"), "vm_id": "r", "vm_config": vm_rust,
                               "config": plugin_rust if plugin_rust is not None
                               else {"a": 1, "b": [True]}}},
            "routes": [{"match": {"path": "/go/..."}, "upstream": UP.url, "filters": ["cg"]},
                       {"match": {"path": "/rust/..."}, "upstream": UP.url, "filters": ["cr"]}]}


def test_config():
    """The raw VM and plugin configuration reach the filter at start."""
    s = serve(config_doc())
    st, hdrs, _ = req(s.port, "GET", "/go/x")
    eq((st, one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")), (200, "vm go", "plugin go"),
       "go: x-vm-config and x-plugin-config")
    st, hdrs, _ = req(s.port, "GET", "/rust/x")
    eq((st, one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")),
       (200, "vm rust", '{"a":1,"b":[true]}'),
       "rust: the VM configuration trimmed, CR/LF made spaces; a JSON config as its text")
    check(wait_log(s, "filter 'cg' info: config: vm=vm go plugin=plugin go"), "go: logged",
          s.log()[-1500:])
    check(wait_log(s, 'filter \'cr\' info: config: vm=vm rust plugin={"a":1,"b":[true]}'),
          "rust: logged", s.log()[-1500:])
    stop(s)
    # config_file / vm_config_file: the files' bytes.
    vm = os.path.join(TMP, "vmconf.txt")
    with open(vm, "wb") as f:
        f.write(b"from\r\nfile")
    doc = config_doc()
    del doc["filters"]["cg"]["vm_config"], doc["filters"]["cg"]["config"]
    doc["filters"]["cg"].update({"vm_config_file": vm, "config_file": "vmconf.txt"})
    s = serve(doc)
    st, hdrs, _ = req(s.port, "GET", "/go/x")
    eq((one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")), ("from  file", "from  file"),
       "vm_config_file and config_file (relative to the config file)")
    stop(s)


def test_config_fail_at_start():
    for lang, doc, what in (
            ("go", config_doc(vm_go="fail"), "vm configuration says fail"),
            ("rust", config_doc(vm_rust="fail"), "vm configuration says fail"),
            ("rust", config_doc(plugin_rust="fail"), "plugin configuration says fail")):
        r = subprocess.run([CLI, "serve", write_config(doc, "fail.json"), "--listen",
                            "127.0.0.1:0"], capture_output=True, text=True, timeout=60)
        check(r.returncode != 0, "%s: %s: the server does not start" % (lang, what), r.stderr)
        check("listening" not in r.stderr, "%s: never listening" % lang)
        name = "cg" if lang == "go" else "cr"
        check("filter '%s' error: config: %s" % (name, what) in r.stderr,
              "%s: the filter's ERROR log: %s" % (lang, what), r.stderr[-2000:])
        kind = "VM" if what.startswith("vm") else "plugin"
        check(re.search(r"filters\.%s: .*rejected its %s configuration" % (name, kind), r.stderr),
              "%s: the error names the filter and says it rejected its %s configuration"
              % (lang, kind), r.stderr[-2000:])


def test_config_fail_on_reload():
    """vm_config "fail" by the control API: 422, the old configuration keeps
    serving; by the watched config file: refused with a log line, likewise.
    (The plugin configuration, which a reload does change, tells which
    configuration is live.)"""
    sock = os.path.join(TMP, "config-control.sock")
    cfg = write_config(config_doc(plugin_rust="p1"), "live.json")
    s = serve(cfg, "--control", "unix:" + sock)
    st, hdrs, _ = req(s.port, "GET", "/rust/x")
    eq((st, one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")), (200, "vm rust", "p1"),
       "serving")
    st, body = unix_request(sock, "PUT", "/config/filters/cr/vm_config", body='"fail"')
    eq(st, 422, "control API: a VM configuration the filter refuses: 422")
    check(b"filters.cr" in body and b"rejected its VM configuration" in body, "saying why", body)
    check(wait_log(s, "filter 'cr' error: config: vm configuration says fail"),
          "the filter's own ERROR log", s.log()[-1500:])
    st, hdrs, _ = req(s.port, "GET", "/rust/x")
    eq((st, one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")), (200, "vm rust", "p1"),
       "the old configuration keeps serving")
    st, body = unix_request(sock, "GET", "/config/filters/cr/vm_config")
    eq((st, json.loads(body)), (200, " vm\nrust "), "the live document is unchanged")
    st, body = unix_request(sock, "PUT", "/config/filters/cr/config", body='"p2"')
    eq(st, 200, "a plugin configuration change is applied")
    eq(one(req(s.port, "GET", "/rust/x")[1], "x-plugin-config"), "p2", "p2 is live")
    # The file watch. Control API changes do not write the file.
    tmp = cfg + ".new"
    with open(tmp, "w") as f:
        json.dump(config_doc(vm_rust="fail", plugin_rust="p3"), f)
    os.rename(tmp, cfg)
    check(wait_log(s, "(keeping the running config)", timeout=10),
          "the watch refuses the file, and says so", s.log()[-2000:])
    check(re.search(r"hot reload: .*live\.json: server config: filters\.cr: .*rejected its VM "
                    r"configuration", s.log()), "naming the file, the filter and why", s.log()[-2000:])
    st, hdrs, _ = req(s.port, "GET", "/rust/x")
    eq((st, one(hdrs, "x-vm-config"), one(hdrs, "x-plugin-config")), (200, "vm rust", "p2"),
       "the running configuration keeps serving")
    with open(tmp, "w") as f:
        json.dump(config_doc(plugin_rust="p4"), f)
    os.rename(tmp, cfg)
    ok = wait_for(lambda: one(req(s.port, "GET", "/rust/x")[1], "x-plugin-config") == "p4", 10)
    check(ok, "a good file afterwards is applied", s.log()[-2000:])
    check(wait_log(s, "hot reload: applied"), "and logged as applied", s.log()[-1000:])
    stop(s)


def test_vm_config_change():
    """A new vm_config (control API or config file) reaches the filter: new
    VMs are made for it, as Envoy does for a changed VM configuration."""
    sock = os.path.join(TMP, "vmchange-control.sock")
    cfg = write_config(config_doc(), "vmchange.json")
    s = serve(cfg, "--control", "unix:" + sock)
    eq(one(req(s.port, "GET", "/rust/x")[1], "x-vm-config"), "vm rust", "serving")
    st, body = unix_request(sock, "PUT", "/config/filters/cr/vm_config", body='"vm two"')
    eq(st, 200, "a new VM configuration is accepted")
    res = [one(req(s.port, "GET", "/rust/%d" % i)[1], "x-vm-config") for i in range(4)]
    eq(res, ["vm two"] * 4, "control API: the filter sees the new VM configuration")
    tmp = cfg + ".new"
    with open(tmp, "w") as f:
        json.dump(config_doc(vm_go="vm go three"), f)
    os.rename(tmp, cfg)
    check(wait_log(s, "hot reload: applied", timeout=10), "the file is applied", s.log()[-1000:])
    res = [one(req(s.port, "GET", "/go/%d" % i)[1], "x-vm-config") for i in range(4)]
    eq(res, ["vm go three"] * 4, "config file: the filter sees the new VM configuration")
    stop(s)


run(globals())
