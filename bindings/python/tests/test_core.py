"""Engine, manifest, loading, numeric, bytes and string calls, bad input."""
import json
import math
import os
import pathlib

import pytest

import wasmplug
from conftest import fixture, plugin_path


def test_library_found_from_the_installed_tree():
    assert os.path.basename(wasmplug.LIB_PATH) == "libwasmplug.so"
    assert os.path.exists(wasmplug.LIB_PATH)


def test_engine_config_kwargs(tmp_path):
    cache = tmp_path / "cache"
    with wasmplug.Engine(cache_dir=str(cache), pooling=0, max_memory="64MiB", max_module_size=1 << 20,
                         max_functions=1000, instantiate_timeout_ms=5000, tick_us=500) as e:
        with e.load(fixture("numeric.wat")) as p, p.instance() as inst:
            assert inst.call("add", 2, 3) == 5
            # max_memory is the engine's cap: past 64 MiB growth is refused.
            assert inst.call("grow", 1100) == -1
    with wasmplug.Engine(cache_dir=None, max_module_size=100) as e:
        with pytest.raises(wasmplug.LoadError, match="100"):
            e.load(fixture("numeric.wat"))
    with pytest.raises(wasmplug.BadInput):
        wasmplug.Engine(max_memory="lots")


def test_numeric_calls(numeric):
    with numeric.instance() as inst:
        assert inst.call("add", 2, 3) == 5
        assert inst.call("add", 2**31 - 1, 1) == -2**31           # wraps as wasm does
        assert inst.call("add", 0xFFFFFFFF, 0) == -1               # unsigned input accepted
        assert inst.call("add64", 2**40, 5) == 2**40 + 5
        assert inst.call("mulf32", 1.5, 2) == 3.0
        assert inst.call("divf64", 1.0, 3.0) == pytest.approx(1 / 3, rel=1e-15)
        assert math.isinf(inst.call("divf64", 1.0, 0.0))
        assert inst.call("pair", -7) == (-7, -7)
        assert inst.call("nothing") is None


def test_function_handles(numeric):
    f = numeric.func("add")
    assert f.id == numeric.func("add").id and not f.is_bytes and not f.is_component
    assert "i32" in f.type
    with numeric.instance() as a, numeric.instance() as b:
        add_a, add_b = a.func(f), b.func("add")
        assert [add_a(i, 1) for i in range(5)] == [1, 2, 3, 4, 5]
        assert add_b(40, 2) == 42
        assert a.call(f, 1, 1) == 2


def test_handle_of_another_plugin_is_refused(engine, numeric):
    with engine.load_bytes(pathlib.Path(fixture("numeric.wat")).read_bytes(), "copy") as other, \
            other.instance() as inst:
        with pytest.raises(wasmplug.BadInput, match="another plugin"):
            inst.call(numeric.func("add"), 1, 2)


def test_numeric_argument_checks(numeric):
    with numeric.instance() as inst:
        with pytest.raises(wasmplug.BadInput, match="takes 2"):
            inst.call("add", 1)
        with pytest.raises(wasmplug.BadInput, match="out of range"):
            inst.call("add", 2**32, 0)
        with pytest.raises(wasmplug.BadInput, match="int"):
            inst.call("add", 1.5, 0)
        with pytest.raises(ValueError):  # BadInput is a ValueError too
            inst.call("add", "1", 0)
        assert inst.call("add", 1, 1) == 2  # still usable


def test_load_from_bytes(engine):
    data = pathlib.Path(fixture("numeric.wat")).read_bytes()
    with engine.load_bytes(data, name="num-from-bytes") as p, p.instance() as inst:
        assert p.name == "num-from-bytes"
        assert inst.call("add", 20, 22) == 42
    wasm = pathlib.Path(plugin_path("hello-c.wasm")).read_bytes()
    with wasmplug.Plugin.from_bytes(engine, wasm, "hello") as p, p.instance() as inst:
        assert inst.call_string("greet", "bytes") == "Hello, bytes!"
        assert len(p.sha256) == 64 and p.size == len(wasm)


def test_plugin_info(numeric):
    names = [e.name for e in numeric.exports]
    assert "add" in names and "memory" in names
    add = next(e for e in numeric.exports if e.name == "add")
    assert add.kind == "func" and "i32" in add.type
    assert numeric.imports == []
    assert not numeric.is_component
    assert numeric.name == "numeric.wat"


def test_bytes_and_string_calls(echo):
    with echo.instance() as inst:
        data = bytes(range(256)) * 4
        assert inst.call_bytes("echo", data) == data
        assert inst.call_bytes("echo", b"") == b""
        assert inst.call_bytes("echo", bytearray(b"ab")) == b"ab"
        assert inst.call_string("echo", "héllo ✓") == "héllo ✓"
        f = inst.func("echo")
        assert f.call_bytes(b"x" * 32) == b"x" * 32
        with pytest.raises(wasmplug.BadInput):
            inst.call_bytes("echo", "not bytes")
        with pytest.raises(wasmplug.BadInput, match="UTF-8"):
            inst.call_string("echo", "\ud800")
        assert inst.call_string("echo", "a\0b") == "a\0b"

        assert f.func.is_bytes and not echo.func("echo").is_component
        with pytest.raises(wasmplug.NotFound):
            echo.func("cabi_post_echo_nope")


def test_plugin_errors_and_abi(echo):
    with echo.instance() as inst:
        with pytest.raises(wasmplug.PluginError, match="bad things"):
            inst.call_bytes("fail", b"x")
    with echo.instance() as inst:
        with pytest.raises(wasmplug.AbiError):
            inst.call_bytes("bad_output", b"x")


def test_hello_c_with_config(engine):
    m = wasmplug.Manifest({"config": {"greeting": "Howdy"}, "limits": {"timeout_ms": 1000}})
    with m, engine.load(plugin_path("hello-c.wasm"), m) as p, p.instance() as inst:
        assert inst.call_string("greet", "world") == "Howdy, world!"
    # a dict works directly, and keyword fields on top of it
    with engine.load(plugin_path("hello-c.wasm"), {"config": {"greeting": "Hi"}}) as p:
        assert p.instance().call_string("greet", "x") == "Hi, x!"
    m = wasmplug.Manifest(json.dumps({"name": "hello"}), config={"greeting": "Yo"}, timeout_ms=500)
    assert m.config("greeting") == "Yo" and m.config("nope") is None
    d = m.to_dict()
    assert d["name"] == "hello" and d["limits"]["timeout_ms"] == 500
    with engine.load(plugin_path("hello-c.wasm"), m) as p, p.instance() as inst:
        assert p.name == "hello"
        assert inst.call_string("greet", "z") == "Yo, z!"


def test_manifest_load_file(tmp_path, engine):
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"sources": [{"path": plugin_path("hello-c.wasm")}],
                             "config": {"greeting": "Hey"}}))
    with wasmplug.Manifest.load(str(f)) as m, wasmplug.Plugin(engine, None, m) as p:
        assert p.instance().call_string("greet", "file") == "Hey, file!"


def test_bad_manifests():
    with pytest.raises(wasmplug.BadInput, match="nonsense"):
        wasmplug.Manifest({"nonsense": 1})
    with pytest.raises(wasmplug.BadInput):
        wasmplug.Manifest("{not json")
    with pytest.raises(wasmplug.BadInput):
        wasmplug.Manifest({"limits": {"memory": "1KiB"}})
    with pytest.raises(TypeError):
        wasmplug.Manifest(42)


def test_missing_file(engine, tmp_path):
    with pytest.raises(wasmplug.Error) as ei:
        engine.load(str(tmp_path / "nope.wasm"))
    assert isinstance(ei.value, (wasmplug.WasmplugIOError, wasmplug.NotFound))
    assert "nope.wasm" in ei.value.message


def test_bad_wasm(engine):
    with pytest.raises(wasmplug.LoadError) as ei:
        engine.load_bytes(b"\0asm\x01\0\0\0garbage", "junk.wasm")
    assert "junk.wasm" in str(ei.value) and ei.value.kind_name == "load"
    with pytest.raises(wasmplug.LoadError):
        engine.load_bytes(b"(module (func $f (result i32)))", "bad.wat")


def test_unknown_export(numeric):
    with pytest.raises(wasmplug.NotFound, match="add") as ei:  # lists the exports
        numeric.func("nope")
    assert isinstance(ei.value, LookupError)
    with numeric.instance() as inst:
        with pytest.raises(wasmplug.NotFound):
            inst.call("nope")


def test_missing_import_is_a_link_error(engine):
    with pytest.raises(wasmplug.LinkError, match="test"):
        engine.load(fixture("host.wat"))


def test_wasi_command_run_and_capture(engine):
    m = {"wasi": {"stdout": "capture", "stderr": "capture"}}
    with engine.load(fixture("command.wat"), m) as p, p.instance() as inst:
        assert inst.run() == 3
        assert inst.stdout == b"hi from wasm\n"
        assert inst.stderr == b"oops\n"
