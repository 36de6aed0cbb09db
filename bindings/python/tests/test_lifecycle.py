"""Closing in any order, double close, use after close, finalizers, pools."""
import gc
import itertools
import threading

import pytest

import wasmplug
from conftest import fixture, plugin_path


def make_all():
    logs = []
    e = wasmplug.Engine(log=lambda *a: logs.append(a))
    e.define_string("plugin", "call_me", lambda s: "Hello " + s)
    p = e.load(plugin_path("callback-c.wasm"))
    i = p.instance()
    pool = p.pool()
    taken = pool.take()
    return {"engine": e, "plugin": p, "instance": i, "pool": pool, "taken": taken}, logs


@pytest.mark.parametrize("order", list(itertools.permutations(
    ["engine", "plugin", "instance", "pool", "taken"])))
def test_close_in_any_order(order):
    objs, _ = make_all()
    closed = set()
    for name in order:
        objs[name].close()
        closed.add(name)
        # whatever is still open keeps working
        if "instance" not in closed:
            assert objs["instance"].call_string("callback", "a") == "Hello a"
        if "taken" not in closed and "pool" not in closed:
            assert objs["taken"].call_string("callback", "b") == "Hello b"
    for o in objs.values():
        assert o.closed
        o.close()  # twice is fine


def test_use_after_close_raises():
    objs, _ = make_all()
    for o in objs.values():
        o.close()
    with pytest.raises(ValueError, match="closed"):
        objs["instance"].call_string("callback", "x")
    with pytest.raises(ValueError, match="closed"):
        objs["plugin"].instance()
    with pytest.raises(ValueError, match="closed"):
        objs["engine"].load(fixture("numeric.wat"))
    with pytest.raises(ValueError, match="closed"):
        objs["pool"].take()
    with pytest.raises(ValueError, match="closed"):
        objs["taken"].call_string("callback", "x")
    with pytest.raises(ValueError, match="closed"):
        objs["engine"].define_bytes("a", "b", bytes)
    with pytest.raises(ValueError):
        with objs["instance"]:
            pass


def test_plugin_closed_while_instance_lives():
    with wasmplug.Engine() as e:
        p = e.load(fixture("numeric.wat"))
        add = p.func("add")
        inst = p.instance()
        f = inst.func(add)
        p.close()
        e.close()
        assert f(1, 2) == 3 and inst.call("add", 3, 4) == 7
        inst.close()


def test_finalizers_free_what_is_not_closed():
    logs = []
    e = wasmplug.Engine(log=lambda *a: logs.append(a))
    p = e.load(fixture("echo.wat"))
    inst = p.instance()
    pool = p.pool()
    taken = pool.take()
    fin = [o._finalizer for o in (e, p, inst, pool, taken)]
    # drop the engine and plugin first: the instance keeps its callback alive
    del e, p
    gc.collect()
    assert inst.call_bytes("echo", b"still") == b"still"
    assert logs  # the log callback is still reachable
    del inst, pool, taken
    gc.collect()
    assert all(not f.alive for f in fin)


def test_pool_reuse_and_fresh_instances(numeric):
    with numeric.pool(max_uses=0, max_idle=2) as pool:
        with pool.take() as a:
            assert a.call("count") == 1
        assert pool.idle == 1
        with pool.take() as b:
            assert b.call("count") == 2      # the same instance, reused
    with numeric.pool(max_uses=1) as pool:
        assert [pool.call("count") for _ in range(3)] == [1, 1, 1]
        assert pool.idle == 0


def test_failed_instance_never_comes_back(engine):
    with engine.load(fixture("numeric.wat"), {"limits": {"timeout_ms": 30}}) as p, \
            p.pool(max_idle=4) as pool:
        with pool.take() as inst:
            inst.call("count")
            with pytest.raises(wasmplug.WasmplugTimeout):
                inst.call("spin")
        assert pool.idle == 0
        assert pool.call("count") == 1


def test_pool_close_gives_back_taken_instances(numeric):
    pool = numeric.pool()
    a, b = pool.take(), pool.take()
    a.close()
    pool.close()
    assert b.closed and a.closed
    b.close()


def test_concurrent_calls_on_one_instance_are_serialized(numeric):
    with numeric.instance() as inst:
        errors = []

        def work():
            try:
                for _ in range(500):
                    inst.call("count")
            except BaseException as exc:
                errors.append(exc)

        ts = [threading.Thread(target=work) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == []
        assert inst.call("count") == 2001


def test_pool_from_threads(numeric):
    with numeric.pool(max_uses=0, max_idle=8) as pool:
        results, errors = [], []
        lock = threading.Lock()

        def work(k):
            try:
                add = numeric.func("add")
                for i in range(200):
                    with pool.take() as inst:
                        r = inst.call(add, i, k)
                        assert r == i + k
                with lock:
                    results.append(k)
            except BaseException as exc:
                errors.append(exc)

        ts = [threading.Thread(target=work, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == [] and sorted(results) == list(range(8))
        assert 1 <= pool.idle <= 8


def test_function_handles_close():
    with wasmplug.Engine() as e:
        p = e.load(fixture("numeric.wat"))
        inst = p.instance()
        with p.func("add") as f:
            bound = inst.func(f)
        assert f.closed
        f.close()
        with pytest.raises(ValueError, match="closed"):
            inst.call(f, 1, 2)
        assert bound(1, 2) == 3                   # a bound handle lives with its instance
        assert p.func("add") is not f and not p.func("add").closed
        p.close()
        inst.close()
        with pytest.raises(ValueError, match="closed"):
            bound(1, 2)
