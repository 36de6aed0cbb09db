"""Limits and failures: each raises the exception of its kind."""
import threading
import time

import pytest

import wasmplug
from conftest import fixture


def load(engine, **limits):
    return engine.load(fixture("numeric.wat"), wasmplug.Manifest(**limits))


def test_timeout(engine):
    with load(engine, timeout_ms=50) as p, p.instance() as inst:
        t0 = time.monotonic()
        with pytest.raises(wasmplug.WasmplugTimeout) as ei:
            inst.call("spin")
        assert time.monotonic() - t0 < 5
        assert isinstance(ei.value, TimeoutError) and ei.value.kind_name == "timeout"
        assert "50" in ei.value.message
        inst.reset()
        assert inst.call("add", 1, 2) == 3


def test_fuel(engine):
    with load(engine, fuel=10000) as p, p.instance() as inst:
        assert inst.call("add", 1, 2) == 3
        assert inst.fuel_used > 0
        with pytest.raises(wasmplug.OutOfFuel):
            inst.call("spin")


def test_memory_limit(engine):
    with load(engine, memory="1MiB") as p, p.instance() as inst:
        assert inst.call("grow", 100) == -1      # refused: 100 pages > 1 MiB
        assert inst.call("grow", 1) == 1
        assert inst.memory_size == 2 * 65536
        with pytest.raises(wasmplug.MemoryLimit):
            inst.call("bomb")


def test_trap_with_backtrace(numeric):
    with numeric.instance() as inst:
        with pytest.raises(wasmplug.Trap) as ei:
            inst.call("trap")
        assert ei.value.kind == 3
        assert ei.value.backtrace is None or "numeric" in ei.value.backtrace
        inst.reset()
        with pytest.raises(wasmplug.Trap, match="(?i)divide|zero"):
            inst.call("div", 1, 0)
        inst.reset()
        with pytest.raises(wasmplug.Trap):
            inst.call("recurse", 0)


def test_interrupt_from_another_thread(numeric):
    with numeric.instance() as inst:
        timer = threading.Timer(0.1, inst.interrupt)
        timer.start()
        try:
            with pytest.raises(wasmplug.Interrupted):
                inst.call("spin")
        finally:
            timer.join()
        inst.reset()
        assert inst.call("add", 2, 2) == 4


def test_close_waits_for_a_running_call(engine):
    """close() from another thread never frees the instance under a call."""
    started, order = threading.Event(), []

    def nop():
        started.set()
        time.sleep(0.2)
        order.append("host function done")

    engine.define_func("test", "nop", nop)
    engine.define_func("test", "add", lambda a, b: a + b, params=["i32", "i32"], results=["i32"])
    engine.define_func("test", "scale", lambda n, x: x, params=("i64", "f64"), results=("f64",))
    engine.define_bytes("test", "upper", bytes)
    engine.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
    with engine.load(fixture("host.wat")) as p:
        inst = p.instance()
        results = []
        t = threading.Thread(target=lambda: results.append(inst.call("call_nop", 1)))
        t.start()
        assert started.wait(30)
        inst.close()          # waits for the call to end
        order.append("closed")
        t.join()
        assert results == [None] and order == ["host function done", "closed"]
        assert inst.closed
        with pytest.raises(ValueError, match="closed"):
            inst.call("call_nop", 1)


def test_engine_pool_full_is_busy():
    with wasmplug.Engine(pooling=1) as e, e.load(fixture("numeric.wat")) as p:
        with p.instance() as a:
            with pytest.raises(wasmplug.Busy):
                p.instance()
            assert a.call("add", 1, 1) == 2
        with p.instance() as b:   # the slot is free again
            assert b.call("add", 2, 2) == 4
