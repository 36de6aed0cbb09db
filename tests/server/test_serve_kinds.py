"""wasmplug serve: every handler kind and language end to end over real
sockets, with fresh and reused instances: the hello examples (C and Go core
modules; C in both component worlds; Python, JavaScript and Rust wasi:http
components) and the JSON API example."""
import json

from serve_lib import *

# variant -> (file, greeting name)
HELLOS = {
    "c-core": ("http-hello-c.wasm", "C (core)"),
    "go-core": ("http-hello-go.wasm", "Go (core)"),
    "c-wasi": ("http-hello-c-wasi.wasm", "C (wasi:http)"),
    "c-wasmplug": ("http-hello-c-wasmplug.wasm", "C (wasmplug:http)"),
    "python": ("http-hello-python.wasm", "Python (wasi:http)"),
    "js": ("http-hello-js.wasm", "JavaScript (wasi:http)"),
    "rust": ("http-hello-rust.wasm", "Rust (wasi:http)"),
}
# Built only where the toolchain exists (examples/CMakeLists.txt says when).
OPTIONAL = {"rust"}


def available():
    out = {}
    for v, (f, name) in HELLOS.items():
        if os.path.exists(plugin(f)):
            out[v] = (plugin(f), name)
        elif v in OPTIONAL:
            print("  skip %s: %s was not built (no Rust toolchain for wasm32 here)" % (v, f))
        else:
            check(False, "example %s is built" % f)
    return out


def test_hellos():
    hellos = available()
    doc = {"access_log": "off", "workers": 2, "plugins": {}, "routes": []}
    for v, (path, _) in hellos.items():
        doc["plugins"][v] = {"path": path}
        doc["routes"].append({"match": {"path": "/fresh/%s/..." % v}, "plugin": v})
        doc["routes"].append({"match": {"path": "/reuse/%s/..." % v}, "plugin": v,
                              "instances": {"mode": "reuse", "max_uses": 100}})
    body = bytes(range(256)) * 256  # 64 KiB, every byte value
    with Server(write_config(doc), timeout=300) as s:
        for v, (_, name) in hellos.items():
            for mode in ("fresh", "reuse"):
                for i in range(3):
                    p = "/%s/%s/hi?n=%d" % (mode, v, i)
                    st, h, b = get(s.port, p)
                    eq(st, 200, "%s %s GET status" % (v, mode))
                    eq(b.decode(errors="replace"),
                       "Hello from %s! You asked for GET %s\n" % (name, p), "%s %s GET body" % (v, mode))
                    eq(h.get("x-wasmplug-example"), v, "%s header x-wasmplug-example" % v)
                    check(h.get("content-type", "").startswith("text/plain"), "%s content-type" % v, h)
                st, h, b = request(s.port, "POST", "/%s/%s/echo" % (mode, v), body=body)
                eq(st, 200, "%s %s POST status" % (v, mode))
                check(b == body, "%s %s echoes 64 KiB of binary exactly" % (v, mode),
                      "got %d bytes" % len(b))
                st, h, b = request(s.port, "PUT", "/%s/%s/empty" % (mode, v), body=b"")
                eq((st, b), (200, b""), "%s %s echoes an empty body" % (v, mode))
        if "c-wasi" in hellos:
            # wasi:http refuses header values with control bytes: 400, not 500.
            st, _, _ = get(s.port, "/reuse/c-wasi/x", headers={"X-Odd": "a\x01b"})
            eq(st, 400, "a control byte in a header value wasi:http refuses: 400, not 500")
            eq(get(s.port, "/reuse/c-wasi/x")[0], 200, "the next request works")


def test_json_api():
    path = plugin("http-api-go.wasm")
    if not check(os.path.exists(path), "the JSON API example is built"):
        return
    doc = {"access_log": "off",
           "plugins": {"api": {"path": path, "manifest": {"config": {"service_name": "notes-test"}}}},
           "routes": [{"match": {"path": "/api/..."}, "plugin": "api",
                       "instances": {"mode": "reuse", "max_idle": 1}}]}
    with Server(write_config(doc), "--workers", "1") as s:
        st, h, b = get(s.port, "/api/items")
        eq(st, 200, "list items")
        check(h.get("content-type", "").startswith("application/json"), "JSON content type", h)
        first = json.loads(b)
        st, h, b = request(s.port, "POST", "/api/items", body=json.dumps({"name": "milk"}),
                           headers={"Content-Type": "application/json"})
        eq(st, 201, "create an item")
        item = json.loads(b)
        st, h, b = get(s.port, "/api/items/%s" % item["id"])
        eq(st, 200, "get it back")
        eq(json.loads(b)["name"], "milk", "same item")
        eq(request(s.port, "POST", "/api/items", body="{bad")[0], 400, "bad JSON: 400")
        eq(get(s.port, "/api/items/999999")[0], 404, "unknown id: 404")
        st, h, b = get(s.port, "/api/")
        check(b"notes-test" in b or "notes-test" in json.dumps(h), "the config value shows", (h, b))
        check("[info] api" in s.log() or "api:" in s.log(), "requests are logged through the host",
              s.log()[-300:])


run_tests(globals())
