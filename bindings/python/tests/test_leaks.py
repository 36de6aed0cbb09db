"""No C memory leaks on the common paths: the process's RSS stays flat over
many calls (a leak of the values, errors or handles involved would add
megabytes)."""
import gc
import pathlib

import pytest

import wasmplug
from conftest import fixture, plugin_path
from test_component import EVERYTHING


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4


def grows(fn, n, warm=300):
    for _ in range(warm):
        fn()
    gc.collect()
    before = rss_kib()
    for _ in range(n):
        fn()
    gc.collect()
    return rss_kib() - before


def test_component_values_do_not_leak(engine):
    engine.define_component_func("example:types/host", "round-trip", lambda x: x)
    with engine.load(plugin_path("types-c-component.wasm"), {"imports": {"missing": "trap"}}) as p, \
            p.instance() as inst:
        f = inst.func("call-host")
        # each call makes ~4 trees of ~60 values: a leak would be ~10 KiB a call
        assert grows(lambda: f(EVERYTHING), 3000) < 4096


def test_errors_and_instances_do_not_leak(engine):
    with engine.load(fixture("numeric.wat")) as p:
        def fail():
            with p.instance() as inst:
                with pytest.raises(wasmplug.Trap):
                    inst.call("trap")
                with pytest.raises(wasmplug.NotFound):
                    inst.call("nope")
        assert grows(fail, 3000) < 1024   # each round: an instance and two errors


def test_plugins_and_engines_do_not_leak():
    data = pathlib.Path(fixture("numeric.wat")).read_bytes()

    def cycle():
        with wasmplug.Engine(log=lambda *a: None) as e:
            e.define_func("x", "y", lambda: None)
            with e.load_bytes(data, "n") as p, p.instance() as inst, p.pool() as pool:
                inst.call("add", 1, 2)
                pool.call("add", 1, 2)
    assert grows(cycle, 200, warm=60) < 4096
