"""The compiled fast path (cffi) and its ctypes fallback: which one is in use,
the values its C side treats specially, the lock it takes in C, and the GIL.
test.sh runs the whole suite once with each (WASMPLUG_PY_FFI=cffi, =ctypes),
so every other test covers both; these look at what the fast path adds."""
import math
import os
import threading
import time

import pytest

import wasmplug
from conftest import fixture


def test_the_path_asked_for_is_the_one_in_use():
    want = os.environ.get("WASMPLUG_PY_FFI")
    if want == "cffi":
        assert wasmplug.fast_path() == "cffi" and wasmplug.fast_path_reason() is None
    elif want == "ctypes":
        assert wasmplug.fast_path() == "ctypes"
        assert "WASMPLUG_PY_FFI=ctypes" in wasmplug.fast_path_reason()
    else:
        # Not forced: either way, but the reason is there exactly when ctypes is.
        assert (wasmplug.fast_path() == "ctypes") == (wasmplug.fast_path_reason() is not None)


def test_values_next_to_the_c_sentinels(numeric):
    # The fast numeric calls return INT64_MIN or NaN for "look at the status":
    # those values are also plain results.
    with numeric.instance() as inst:
        add64, divf64 = inst.func("add64"), inst.func("divf64")
        assert add64(-2**63, 0) == -2**63
        assert add64(2**63, 0) == -2**63                 # unsigned input wraps
        assert add64(2**64 - 1, 0) == -1
        assert add64(-2**63 + 1, -1) == -2**63
        assert math.isnan(divf64(0.0, 0.0))
        assert divf64(float("nan"), 1.0) != divf64(float("nan"), 1.0)
        assert inst.func("add")(-2**31, 0) == -2**31
        assert inst.func("add")(0x80000000, 0) == -2**31
        assert inst.func("nothing")() is None
        assert inst.func("pages")() == 1
        pair = inst.func("pair")                         # two results: any-signature call
        assert pair(0xFFFFFFFF) == (-1, -1)
        assert pair(-2**31) == (-2**31, -2**31)
        with pytest.raises(wasmplug.BadInput, match="out of range"):
            pair(2**32)
        with pytest.raises(wasmplug.BadInput, match="takes 1"):
            pair()
        assert pair(5) == (5, 5)


def test_argument_errors_on_the_fast_path(numeric):
    with numeric.instance() as inst:
        add, add64, mulf32 = inst.func("add"), inst.func("add64"), inst.func("mulf32")
        for bad in ((2**32, 0), (-2**31 - 1, 0)):
            with pytest.raises(wasmplug.BadInput, match="out of range"):
                add(*bad)
        with pytest.raises(wasmplug.BadInput, match="out of range"):
            add64(2**64, 0)
        with pytest.raises(wasmplug.BadInput, match="out of range"):
            add64(-2**63 - 1, 0)
        with pytest.raises(wasmplug.BadInput, match="takes 2"):
            add(1, 2, 3)
        with pytest.raises(wasmplug.BadInput, match="must be a float"):
            mulf32("x", 1.0)
        assert mulf32(1e300, 1.0) == float("inf")        # rounded to f32, as C does
        assert mulf32(2, 3) == 6.0                       # ints accepted for floats
        assert mulf32(float("inf"), 1.0) == float("inf")
        assert add(2, 3) == 5 and add64(2, 3) == 5       # still usable


def test_traps_on_the_fast_path_keep_their_kind(numeric):
    with numeric.instance() as inst:
        div = inst.func("div")
        with pytest.raises(wasmplug.Trap):
            div(1, 0)
        inst.reset()
        assert div(7, 2) == 3


@pytest.mark.parametrize("n", [0, 1, 32, 4095, 4096, 4097, 100_000])
def test_bytes_outputs_of_every_size(echo, n):
    data = os.urandom(n)
    with echo.instance() as inst:
        f = inst.func("echo")
        assert f.call_bytes(data) == data
        assert f.call_bytes(bytearray(data)) == data
        assert f.call_bytes(b"after") == b"after"        # the buffer is not stale


def _slow_host(engine, active, seen, delay):
    """test.add, test.scale and test.upper that take `delay` and note
    overlapping calls. call_add goes through the compiled call of an
    integer signature, call_scale (i64, f64) through the one of any
    signature, shout through the bytes call."""
    lock = threading.Lock()

    def enter():
        with lock:
            active[0] += 1
            seen.append(active[0])
        time.sleep(delay)
        with lock:
            active[0] -= 1

    @engine.define_func("test", "add", params=["i32", "i32"], results=["i32"])
    def add(a, b):
        enter()
        return a + b

    @engine.define_bytes("test", "upper")
    def upper(data):
        enter()
        return data.upper()

    @engine.define_func("test", "scale", params=("i64", "f64"), results=("f64",))
    def scale(n, x):
        enter()
        return n * x

    engine.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
    engine.define_func("test", "nop", lambda: None)


def test_threads_sharing_one_instance_wait_for_each_other(engine):
    # Every call sleeps in its host function, so the threads do meet on the
    # instance's lock: they must wait (never Busy, never two calls at once).
    active, seen = [0], []
    _slow_host(engine, active, seen, 0.002)
    with engine.load(fixture("host.wat")) as p, p.instance() as inst:
        add, shout, scale = inst.func("call_add"), inst.func("shout"), inst.func("call_scale")
        errors = []

        def work(k):
            try:
                for i in range(15):
                    assert add(i, k) == i + k
                    assert shout.call_bytes(b"k%d" % k) == b"K%d" % k
                    assert scale(k, i + 0.5) == k * (i + 0.5)
            except BaseException as exc:
                errors.append(exc)

        ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert errors == []
        assert len(seen) == 4 * 15 * 3 and max(seen) == 1


def test_close_waits_for_a_running_call_then_calls_fail(engine):
    active, seen = [0], []
    _slow_host(engine, active, seen, 0.3)
    with engine.load(fixture("host.wat")) as p:
        inst = p.instance()
        add, shout, scale = inst.func("call_add"), inst.func("shout"), inst.func("call_scale")
        out = []
        t = threading.Thread(target=lambda: out.append(add(20, 22)))
        t.start()
        while not seen:
            time.sleep(0.001)
        t0 = time.monotonic()
        inst.close()                                     # waits for the call
        assert time.monotonic() - t0 > 0.1
        t.join()
        assert out == [42]
        with pytest.raises(ValueError, match="closed"):
            add(1, 2)
        with pytest.raises(ValueError, match="closed"):
            shout.call_bytes(b"x")
        with pytest.raises(ValueError, match="closed"):
            scale(1, 1.0)
        inst.close()                                     # twice is fine


def test_the_gil_is_released_during_a_call(engine):
    # A plugin spinning in one thread must not stop Python in another.
    with engine.load(fixture("numeric.wat"), {"limits": {"timeout_ms": 400}}) as p, \
            p.instance() as inst:
        spin = inst.func("spin")
        done = threading.Event()
        result = []

        def run():
            try:
                spin()
            except wasmplug.WasmplugTimeout as e:
                result.append(e)
            finally:
                done.set()

        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.05)
        n = 0
        while not done.is_set() and n < 200_000:
            n += 1
        finished_first = not done.is_set()
        t.join()
        assert finished_first and n == 200_000
        assert len(result) == 1 and result[0].kind_name == "timeout"


def test_big_outputs_and_errors_do_not_leak(echo):
    from test_leaks import grows
    big = os.urandom(64 * 1024)                         # past the per-thread buffer

    def rnd():
        # a fresh instance each round: echo.wat's bump allocator never frees
        with echo.instance() as inst:
            f, fail = inst.func("echo"), inst.func("fail")
            for _ in range(20):
                assert len(f.call_bytes(big)) == len(big)
            for _ in range(20):
                with pytest.raises(wasmplug.PluginError):
                    fail.call_bytes(b"x")
    # a leaked copy would be 1.25 MiB a round
    assert grows(rnd, 60, warm=10) < 8192
