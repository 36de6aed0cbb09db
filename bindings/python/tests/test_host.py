"""Host functions (numeric, bytes, string, one that fails) and the log callback."""
import threading

import pytest

import wasmplug
from conftest import fixture, plugin_path


def define_test_host(engine, calls):
    @engine.define_func("test", "add", params=["i32", "i32"], results=["i32"])
    def add(a, b):
        calls.append(("add", a, b))
        return a + b

    engine.define_func("test", "scale", lambda n, x: n * x, params=("i64", "f64"),
                       results=("f64",))
    engine.define_bytes("test", "upper", lambda data: data.upper())

    @engine.define_func("test", "fail", params=["i32"], results=["i32"])
    def fail(x):
        raise RuntimeError(f"no luck with {x}")

    engine.define_func("test", "nop", lambda: None)


def test_numeric_and_bytes_host_functions(engine):
    calls = []
    define_test_host(engine, calls)
    with engine.load(fixture("host.wat")) as p, p.instance() as inst:
        assert inst.call("call_add", 40, 2) == 42
        assert calls == [("add", 40, 2)]
        assert inst.call("call_scale", 3, 0.5) == 1.5
        assert inst.call_bytes("shout", b"hello") == b"HELLO"
        inst.call("call_nop", 10)


def test_a_raising_host_function_is_a_clean_host_error(engine):
    define_test_host(engine, [])
    with engine.load(fixture("host.wat")) as p, p.instance() as inst:
        with pytest.raises(wasmplug.HostError) as ei:
            inst.call("call_fail", 7)
        assert "RuntimeError" in ei.value.message and "no luck with 7" in ei.value.message
        inst.reset()
        assert inst.call("call_add", 1, 1) == 2


def test_host_function_wrong_result_is_a_host_error(engine):
    engine.define_func("test", "add", lambda a, b: "nan", params=["i32", "i32"], results=["i32"])
    engine.define_func("test", "scale", lambda n, x: (1.0, 2.0), params=("i64", "f64"),
                       results=("f64",))
    engine.define_bytes("test", "upper", lambda data: "a str")
    engine.define_func("test", "fail", lambda x: 2**40, params=["i32"], results=["i32"])
    engine.define_func("test", "nop", lambda: None)
    with engine.load(fixture("host.wat")) as p:
        for name, args in (("call_add", (1, 2)), ("call_scale", (1, 1.0)), ("call_fail", (1,))):
            with p.instance() as inst, pytest.raises(wasmplug.HostError):
                inst.call(name, *args)
        with p.instance() as inst, pytest.raises(wasmplug.HostError, match="expected bytes"):
            inst.call_bytes("shout", b"x")


def test_bad_host_definitions(engine):
    with pytest.raises(wasmplug.BadInput):
        engine.define_func("test", "x", lambda: 0, params=["i128"])
    engine.define_func("test", "add", lambda a: a, params=["i32"], results=["i32"])
    engine.define_func("test", "scale", lambda n, x: x, params=("i64", "f64"), results=("f64",))
    engine.define_bytes("test", "upper", bytes)
    engine.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
    engine.define_func("test", "nop", lambda: None)
    with pytest.raises(wasmplug.LinkError):  # test.add imported as (i32, i32) -> i32
        engine.load(fixture("host.wat"))


def test_string_host_function_callback_plugin(engine):
    seen = []

    @engine.define_string("plugin", "call_me")
    def call_me(name):
        seen.append(name)
        return f"Hello {name}"

    with engine.load(plugin_path("callback-c.wasm")) as p, p.instance() as inst:
        assert inst.call_string("callback", "Ada") == "Hello Ada"
        assert inst.call_string("callback", "") == "Hello Nic"
        assert seen == ["Ada", "Nic"]


def test_string_host_function_that_fails(engine):
    engine.define_string("plugin", "call_me", lambda name: 1 / 0)
    with engine.load(plugin_path("callback-c.wasm")) as p, p.instance() as inst:
        with pytest.raises(wasmplug.Error) as ei:
            inst.call_string("callback", "x")
        assert "ZeroDivisionError" in ei.value.message


def test_log_callback():
    logs = []
    with wasmplug.Engine(log=lambda lvl, plugin, msg: logs.append((lvl, plugin, msg))) as e:
        with e.load(plugin_path("hello-c.wasm")) as p, p.instance() as inst:
            inst.call_string("greet", "world")
        with e.load(fixture("echo.wat")) as p, p.instance() as inst:
            inst.call_bytes("echo", b"x")
    assert (wasmplug.LogLevel.INFO, "hello-c.wasm", "greeting world") in logs
    assert (wasmplug.LogLevel.INFO, "echo.wat", "echoing") in logs
    assert logs[0][0].name == "INFO"


def test_log_callback_that_raises_does_not_break_the_call(capfd):
    def bad(*a):
        raise KeyError("log boom")

    with wasmplug.Engine(log=bad) as e, e.load(fixture("echo.wat")) as p, p.instance() as inst:
        assert inst.call_bytes("echo", b"ok") == b"ok"
    assert "log boom" in capfd.readouterr().err


def test_host_functions_and_log_from_many_threads():
    lock = threading.Lock()
    logs, seen, idents = [], [], {}

    def log(lvl, plugin, msg):
        with lock:
            logs.append((threading.get_ident(), msg))

    with wasmplug.Engine(log=log) as e:
        @e.define_string("plugin", "call_me")
        def call_me(name):
            k = int(name[1:].split("-")[0])
            with lock:
                # the callback runs on the thread that made the call
                seen.append((k, idents[k] == threading.get_ident()))
            return f"Hello {name}"

        with e.load(plugin_path("callback-c.wasm")) as cb, e.load(plugin_path("hello-c.wasm")) as hi, \
                cb.pool() as pool, hi.pool(max_uses=1) as hpool:
            errors = []

            def work(k):
                idents[k] = threading.get_ident()
                try:
                    for i in range(25):
                        assert pool.call_string("callback", f"t{k}-{i}") == f"Hello t{k}-{i}"
                        assert hpool.call_string("greet", f"{k}") == f"Hello, {k}!"
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
    assert sorted(seen) == sorted((k, True) for k in range(6) for _ in range(25))
    assert len([m for _, m in logs if m.startswith("greeting ")]) == 150


def test_reentrant_call_from_a_host_function_is_refused(engine):
    holder = {}

    @engine.define_string("plugin", "call_me")
    def call_me(name):
        return holder["inst"].call_string("callback", "again")

    with engine.load(plugin_path("callback-c.wasm")) as p, p.instance() as inst:
        holder["inst"] = inst
        with pytest.raises(wasmplug.Error, match="called into the instance"):
            inst.call_string("callback", "x")


def test_string_call_on_output_that_is_not_utf8_is_an_abi_error():
    engine2 = wasmplug.Engine()
    with engine2:
        engine2.define_func("test", "add", lambda a, b: a + b, params=["i32", "i32"], results=["i32"])
        engine2.define_func("test", "scale", lambda n, x: n * x, params=("i64", "f64"),
                            results=("f64",))
        engine2.define_bytes("test", "upper", lambda data: b"\xff\xfe")
        engine2.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
        engine2.define_func("test", "nop", lambda: None)
        with engine2.load(fixture("host.wat")) as p, p.instance() as inst:
            assert inst.call_bytes("shout", b"x") == b"\xff\xfe"
            with pytest.raises(wasmplug.AbiError, match="not UTF-8"):
                inst.call_string("shout", "x")


def test_host_call_context(engine):
    seen = []

    @engine.define_func("test", "add", params=["i32", "i32"], results=["i32"], with_call=True)
    def add(call, a, b):
        seen.append((call.time_left_ms, call.interrupted, call.plugin_name))
        return a + b

    engine.define_func("test", "scale", lambda n, x: n * x, params=("i64", "f64"), results=("f64",))

    @engine.define_bytes("test", "upper", with_call=True)
    def upper(call, data):
        seen.append(call)
        return data.upper()

    engine.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
    engine.define_func("test", "nop", lambda: None)
    with engine.load(fixture("host.wat"), {"name": "host", "limits": {"timeout_ms": 5000}}) as p, \
            p.instance() as inst:
        assert inst.call("call_add", 1, 2) == 3
        assert inst.call_bytes("shout", b"ab") == b"AB"
    left, interrupted, name = seen[0]
    assert 0 < left <= 5000 and interrupted is False and name == "host"
    with pytest.raises(ValueError, match="only during"):
        seen[1].time_left_ms          # a HostCall does not outlive its call
    with engine.load(fixture("host.wat")) as p, p.instance() as inst:
        inst.call("call_add", 1, 2)
    assert seen[2][0] is None         # no time limit


def test_interrupt_reaches_a_waiting_host_function(engine):
    import time
    waited, holder = [], {}

    @engine.define_bytes("test", "upper", with_call=True)
    def upper(call, data):
        # interrupt() comes from another thread once the host function waits
        timer = threading.Timer(0.05, holder["inst"].interrupt)
        timer.start()
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < 10:
                call.check()             # raises Interrupted once interrupt() came
                time.sleep(0.005)
        finally:
            waited.append(time.monotonic() - t0)
            timer.join()
        raise RuntimeError("never interrupted")

    engine.define_func("test", "add", lambda a, b: a + b, params=["i32", "i32"], results=["i32"])
    engine.define_func("test", "scale", lambda n, x: n * x, params=("i64", "f64"), results=("f64",))
    engine.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
    engine.define_func("test", "nop", lambda: None)
    with engine.load(fixture("host.wat")) as p, p.instance() as inst:
        holder["inst"] = inst
        with pytest.raises(wasmplug.Interrupted):
            inst.call_bytes("shout", b"x")
    assert len(waited) == 1 and waited[0] < 5


def test_host_function_timeout_kind(engine):
    import time

    @engine.define_bytes("test", "upper", with_call=True)
    def upper(call, data):
        while True:
            call.check()                 # WasmplugTimeout once the 100 ms are up
            time.sleep(0.005)

    engine.define_func("test", "add", lambda a, b: a + b, params=["i32", "i32"], results=["i32"])
    engine.define_func("test", "scale", lambda n, x: n * x, params=("i64", "f64"), results=("f64",))
    engine.define_func("test", "fail", lambda x: x, params=["i32"], results=["i32"])
    engine.define_func("test", "nop", lambda: None)
    with engine.load(fixture("host.wat"), {"limits": {"timeout_ms": 100}}) as p, \
            p.instance() as inst:
        t0 = time.monotonic()
        with pytest.raises(wasmplug.WasmplugTimeout):
            inst.call_bytes("shout", b"x")
        assert time.monotonic() - t0 < 5
