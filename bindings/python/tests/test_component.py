"""Component calls with typed values, and component host functions."""
import math

import pytest

import wasmplug
from wasmplug import Err, Ok, Some, Variant
from conftest import fixture, plugin_path

ECHO = "example:types/echo#"


@pytest.fixture
def comp(engine):
    engine.define_component_func("example:test/host", "twice", lambda x: 2 * x)
    with engine.load(fixture("component.wat")) as p:
        yield p


def test_component_calls(comp):
    assert comp.is_component
    with comp.instance() as inst:
        assert inst.invoke("add", 2, 3) == 5
        assert inst.func("add")(40, 2) == 42            # a handle calls invoke for components
        assert inst.invoke("echo", "héllo") == "héllo"
        assert inst.call_string("echo", "str") == "str"  # string -> string is a bytes function
        assert inst.call_bytes("echo", b"raw") == b"raw"
        assert inst.invoke("example:test/api#quadruple", 5) == 20   # via the host's twice
        f = comp.func("example:test/api#quadruple")
        assert f.is_component and "u32" in f.type


def test_component_errors(comp):
    with comp.instance() as inst:
        with pytest.raises(wasmplug.Trap):
            inst.invoke("crash")
        inst.reset()
        with pytest.raises(wasmplug.BadInput, match="out of range"):
            inst.invoke("add", -1, 2)
        with pytest.raises(wasmplug.BadInput, match="out of range"):
            inst.invoke("add", 2**32, 2)
        with pytest.raises(wasmplug.BadInput, match="takes 2"):
            inst.invoke("add", 1)
        with pytest.raises(wasmplug.BadInput, match="expected a str"):
            inst.invoke("echo", 5)
        with pytest.raises(wasmplug.NotFound):
            inst.invoke("nope")


def test_component_limits(engine):
    engine.define_component_func("example:test/host", "twice", lambda x: 2 * x)
    with engine.load(fixture("component.wat"), wasmplug.Manifest(fuel=100000)) as p, \
            p.instance() as inst:
        assert inst.invoke("spin", 10) == 10
        with pytest.raises(wasmplug.OutOfFuel):
            inst.invoke("spin", 10**9)
    with engine.load(fixture("component.wat"), wasmplug.Manifest(timeout_ms=50)) as p, \
            p.instance() as inst:
        with pytest.raises(wasmplug.WasmplugTimeout):
            inst.invoke("spin", 2**64 - 1)


def test_component_host_function_that_fails(engine):
    def twice(x):
        raise ValueError("twice refuses")

    engine.define_component_func("example:test/host", "twice", twice)
    with engine.load(fixture("component.wat")) as p, p.instance() as inst:
        with pytest.raises(wasmplug.HostError, match="twice refuses"):
            inst.invoke("example:test/api#quadruple", 1)
    # a result out of the declared type's range is a host error too
    e2 = wasmplug.Engine()
    e2.define_component_func("example:test/host", "twice", lambda x: -1)
    with e2, e2.load(fixture("component.wat")) as p, p.instance() as inst:
        with pytest.raises(wasmplug.HostError, match="out of range"):
            inst.invoke("example:test/api#quadruple", 1)


def test_hello_component(engine):
    with engine.load(plugin_path("hello-c-component.wasm")) as p, p.instance() as inst:
        assert inst.invoke("greet", "world") == "Hello, world!"
        assert inst.invoke("example:hello/greeter#greet", "you") == "Hello, you!"
        assert inst.call_string("greet", "str") == "Hello, str!"


POINT = {"x": -3, "y": 4}
EVERYTHING = {
    "b": True, "v-s8": -128, "v-u8": 255, "v-s16": -32768, "v-u16": 65535,
    "v-s32": -2**31, "v-u32": 2**32 - 1, "v-s64": -2**63, "v-u64": 2**64 - 1,
    "v-f32": 1.5, "v-f64": -2.25, "c": "ß", "s": "text ✓", "l": ["a", "", "c"],
    "bytes": b"\x00\x01\xff", "p": POINT, "t": (7, "seven"),
    "sh": Variant("rect", POINT), "col": "green", "o": {"x": 1, "y": 2},
    "r": Err("blue"), "f": {"read", "exec"},
    "nested": [None, Ok(Variant("circle", 2.0)), Err("bad"), Ok(Variant("empty"))],
}


@pytest.fixture
def types(engine):
    round_trips = []

    def round_trip(x):
        round_trips.append(x)
        return x

    engine.define_component_func("example:types/host", "round-trip", round_trip)
    m = {"imports": {"missing": "trap"}}
    with engine.load(plugin_path("types-c-component.wasm"), m) as p:
        p.round_trips = round_trips
        yield p


@pytest.mark.parametrize("name,value", [
    ("bool", True), ("bool", False), ("s8", -128), ("u8", 255), ("s16", -32768),
    ("u16", 65535), ("s32", -2**31), ("u32", 2**32 - 1), ("s64", -2**63), ("u64", 2**64 - 1),
    ("f32", 0.5), ("f64", math.pi), ("char", "✓"), ("string", "a\u0000b ünï"),
    ("bytes", b"\x00\xffabc"), ("bytes", b""), ("bytes", bytes(range(256)) * 40), ("list", [1, 2, 2**32 - 1]), ("list", []),
    ("strings", ["x", "", "yz"]), ("point", POINT),
    ("label", {"text": "t", "at": POINT, "tags": ["a"], "scale": None}),
    ("label", {"text": "t", "at": POINT, "tags": [], "scale": 2.5}),
    ("tuple", (1, "one", 1.5)), ("shape", Variant("circle", 1.5)),
    ("shape", Variant("rect", POINT)), ("shape", Variant("empty")),
    ("shapes", [Variant("empty"), Variant("circle", 0.0)]), ("color", "blue"),
    ("option", None), ("option", "some"), ("result", Ok(5)), ("result", Err("no")),
    ("option-result", None), ("option-result", Ok("s")), ("option-result", Err("red")),
    ("flags", set()), ("flags", {"read", "write", "exec"}), ("flags", {"write"}),
])
def test_echo_every_type(types, name, value):
    with types.instance() as inst:
        assert inst.invoke(ECHO + "echo-" + name, value) == value


def test_python_conveniences(types):
    with types.instance() as inst:
        # a variant case without payload as a bare name, flags as any iterable or a dict
        assert inst.invoke(ECHO + "echo-shape", "empty") == Variant("empty")
        assert inst.invoke(ECHO + "echo-flags", ["read", "read"]) == {"read"}
        assert inst.invoke(ECHO + "echo-flags", {"read": True, "exec": False}) == {"read"}
        assert inst.invoke(ECHO + "echo-bytes", [1, 2, 3]) == b"\x01\x02\x03"
        big = bytes(range(256)) * 400  # 100 KiB: one copy each way
        assert inst.invoke(ECHO + "echo-bytes", big) == big
        assert inst.invoke(ECHO + "echo-bytes", b"") == b""
        assert inst.invoke(ECHO + "echo-tuple", [1, "a", 2]) == (1, "a", 2.0)
        assert inst.invoke(ECHO + "echo-option", Some("x")) == "x"
        # a dataclass for a record ('-' in WIT names read as '_')
        import dataclasses

        @dataclasses.dataclass
        class Point:
            x: int
            y: int

        assert inst.invoke(ECHO + "echo-point", Point(1, 2)) == {"x": 1, "y": 2}
        r = inst.invoke(ECHO + "echo-result", Err("e"))
        assert not r.is_ok
        with pytest.raises(wasmplug.ResultError) as ei:
            r.unwrap()
        assert ei.value.value == "e"
        assert inst.invoke(ECHO + "echo-result", Ok(3)).unwrap() == 3
        a, b, c = inst.invoke(ECHO + "echo-many", 1, "b", [POINT])
        assert (a, b, c) == (1, "b", [POINT])


@pytest.mark.parametrize("name,value,match", [
    ("u8", 256, "out of range"), ("s8", -129, "out of range"), ("u64", -1, "out of range"),
    ("s64", 2**63, "out of range"), ("u32", True, "integer"), ("u32", 1.0, "integer"),
    ("bool", 1, "bool"), ("char", "ab", "one character"), ("char", "\ud800", "surrogate"),
    ("string", b"x", "str"), ("string", "\ud800", "UTF-8"),
    ("list", [1, -1], r"\[1\]"), ("list", "abc", "list"),
    ("point", {"x": 1}, "missing field 'y'"), ("point", {"x": 1, "y": 2, "z": 3}, "unknown"),
    ("point", 5, "dict"), ("tuple", (1, "a"), "tuple of 3"), ("shape", Variant("square", 1), "no case"),
    ("shape", "circle", "needs a payload"), ("shape", Variant("empty", 1), "no payload"),
    ("color", "pink", "one of"), ("flags", {"fly"}, "no flag"), ("result", 5, "Ok"),
    ("option", 5, "str"), ("f32", "1", "float"),
])
def test_bad_values_are_bad_input(types, name, value, match):
    with types.instance() as inst:
        with pytest.raises(wasmplug.BadInput, match=match):
            inst.invoke(ECHO + "echo-" + name, value)
        assert inst.invoke(ECHO + "echo-u8", 1) == 1   # the instance is unharmed


def test_host_round_trip_of_every_type(types):
    with types.instance() as inst:
        out = inst.invoke("call-host", EVERYTHING)
    assert types.round_trips == [EVERYTHING]
    assert out == EVERYTHING
    assert inst.closed


def test_host_function_returning_the_wrong_type(engine):
    engine.define_component_func("example:types/host", "round-trip", lambda x: {**x, "col": "pink"})
    with engine.load(plugin_path("types-c-component.wasm"), {"imports": {"missing": "trap"}}) as p, \
            p.instance() as inst:
        with pytest.raises(wasmplug.HostError, match="pink"):
            inst.invoke("call-host", EVERYTHING)


def test_component_log_and_limits(engine):
    logs = []
    e = wasmplug.Engine(log=lambda *a: logs.append(a))
    e.define_component_func("example:types/host", "round-trip", lambda x: x)
    m = wasmplug.Manifest({"imports": {"missing": "trap"}}, memory="2MiB", timeout_ms=100)
    with e, e.load(plugin_path("types-c-component.wasm"), m) as p:
        with p.instance() as inst:
            inst.invoke("say", "hi there")
            # malloc fails at the 2 MiB limit: the plugin holds less than asked
            assert inst.invoke("hog", 64) < 2
            assert inst.memory_size <= 2 << 20
        with p.instance() as inst:
            with pytest.raises(wasmplug.WasmplugTimeout):
                inst.invoke("spin", 2**64 - 1)
        with p.instance() as inst:
            with pytest.raises(wasmplug.Trap):
                inst.invoke("crash")
    assert any(msg == "hi there" for _, _, msg in logs)
