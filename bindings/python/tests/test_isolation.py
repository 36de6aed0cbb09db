"""Process isolation: the same API, host functions and logs crossing from a worker."""
import os
import pathlib
import threading

import pytest

import wasmplug
from conftest import fixture, plugin_path
from test_component import EVERYTHING


@pytest.fixture
def iso_engine():
    worker = os.environ.get("WASMPLUG_WORKER")
    if not worker or not os.access(worker, os.X_OK):
        raise RuntimeError("WASMPLUG_WORKER must name the installed wasmplug program")
    logs = []
    lock = threading.Lock()

    def log(level, plugin, msg):
        with lock:
            logs.append((threading.get_ident(), plugin, msg))

    with wasmplug.Engine(isolation="process", worker_path=worker, log=log) as e:
        e.logs = logs
        yield e


def worker_children():
    """Command lines of this process's children that are wasmplug workers."""
    out = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            kids = pathlib.Path(f"/proc/{os.getpid()}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for pid in kids:
            try:
                cmd = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"worker" in cmd:
                out.append(cmd)
    return out


def test_isolated_calls_host_functions_and_logs(iso_engine):
    e = iso_engine
    during = []

    @e.define_string("plugin", "call_me")
    def call_me(s):
        during.append(len(worker_children()))   # the plugin runs in a worker meanwhile
        return "Hello " + s

    with e.load(plugin_path("callback-c.wasm")) as cb, cb.instance() as inst:
        assert inst.call_string("callback", "Iso") == "Hello Iso"
        assert len(during) == 1 and during[0] >= 1
    with e.load(plugin_path("hello-c.wasm")) as p, p.instance() as inst:
        assert inst.call_string("greet", "w") == "Hello, w!"
    assert any(m == "greeting w" for _, _, m in e.logs)
    with e.load(fixture("numeric.wat"), {"limits": {"timeout_ms": 50}}) as p, p.instance() as inst:
        assert inst.call("add", 1, 2) == 3
        with pytest.raises(wasmplug.WasmplugTimeout):
            inst.call("spin")


def test_isolated_host_function_that_fails(iso_engine):
    iso_engine.define_string("plugin", "call_me", lambda s: {}[s])
    with iso_engine.load(plugin_path("callback-c.wasm")) as cb, cb.instance() as inst:
        with pytest.raises(wasmplug.Error, match="KeyError"):
            inst.call_string("callback", "x")


def test_isolated_component_values(iso_engine):
    iso_engine.define_component_func("example:types/host", "round-trip", lambda x: x)
    with iso_engine.load(plugin_path("types-c-component.wasm"), {"imports": {"missing": "trap"}}) as p, \
            p.instance() as inst:
        assert inst.invoke("call-host", EVERYTHING) == EVERYTHING
        assert inst.invoke("example:types/echo#echo-u64", 2**64 - 1) == 2**64 - 1


def test_isolated_pool_from_threads(iso_engine):
    e = iso_engine
    e.define_string("plugin", "call_me", lambda s: "Hello " + s)
    with e.load(plugin_path("callback-c.wasm")) as cb, cb.pool(max_idle=3) as pool:
        errors = []

        def work(k):
            try:
                for i in range(10):
                    assert pool.call_string("callback", f"{k}.{i}") == f"Hello {k}.{i}"
            except BaseException as exc:
                errors.append(exc)

        ts = [threading.Thread(target=work, args=(k,)) for k in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == []


def test_isolated_host_resources(iso_engine):
    from test_resources import R, Counter
    e = iso_engine
    drops = []
    counter = e.define_resource("example:types/host", "counter", drop=drops.append)
    e.define_component_func("example:types/host", "[constructor]counter", Counter)

    @e.define_component_func("example:types/host", "[method]counter.increment")
    def increment(c):
        c.n += 1
        return c.n

    e.define_component_func("example:types/host", "round-trip", lambda x: x)
    with e.load(plugin_path("types-c-component.wasm")) as p:
        with p.instance() as inst:
            assert inst.invoke(R + "count-with-host", 1, 4) == 5
            c = Counter(7)
            assert inst.invoke(R + "bump", c) == 8 and c.n == 8
            blob = inst.invoke(R + "[constructor]blob", b"xyz")
            assert inst.invoke(R + "blob-size", blob) == 3
        assert counter.live == 0 and drops[0].n == 5 and c in drops
