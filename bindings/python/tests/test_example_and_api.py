"""The example program, and the ctypes declarations against the installed headers."""
import os
import pathlib
import re
import subprocess
import sys

import wasmplug
from wasmplug import _errors, _ffi
from conftest import plugin_path

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "example", "host.py")


def run_example(*args):
    return subprocess.run([sys.executable, EXAMPLE, *args], capture_output=True, text=True,
                          timeout=60, env=os.environ)


def test_example_greet():
    r = run_example(plugin_path("hello-c.wasm"), "greet", "world")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello, world!\n"
    assert "[info] hello-c.wasm: greeting world" in r.stderr


def test_example_callback():
    r = run_example(plugin_path("callback-c.wasm"), "callback", "Ada")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello Ada\n"


def test_example_errors():
    r = run_example(plugin_path("callback-c.wasm"), "callback", "x" * 300)
    assert r.returncode == 1 and "error (host)" in r.stderr and "200 bytes" in r.stderr
    r = run_example(plugin_path("hello-c.wasm"), "nope")
    assert r.returncode == 1 and "error (not found)" in r.stderr
    r = run_example()
    assert r.returncode == 2 and "usage" in r.stderr


def _headers():
    prefix = os.environ["WASMPLUG_PREFIX"]
    d = os.path.join(prefix, "include", "wasmplug")
    files = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".h")]
    assert len(files) > 10
    return "".join(pathlib.Path(f).read_text() for f in files)


def test_every_declared_function_is_in_the_installed_headers():
    text = _headers()
    for name in _ffi._DECLS:
        assert re.search(r"\b%s\(" % re.escape(name), text), f"{name} is not in the headers"


EXPECTED = {
    "WP_ERR_LOAD": wasmplug.LoadError, "WP_ERR_LINK": wasmplug.LinkError,
    "WP_ERR_TRAP": wasmplug.Trap, "WP_ERR_TIMEOUT": wasmplug.WasmplugTimeout,
    "WP_ERR_INTERRUPTED": wasmplug.Interrupted, "WP_ERR_FUEL": wasmplug.OutOfFuel,
    "WP_ERR_MEMORY_LIMIT": wasmplug.MemoryLimit, "WP_ERR_BAD_INPUT": wasmplug.BadInput,
    "WP_ERR_ABI": wasmplug.AbiError, "WP_ERR_HOST": wasmplug.HostError,
    "WP_ERR_PLUGIN": wasmplug.PluginError, "WP_ERR_IO": wasmplug.WasmplugIOError,
    "WP_ERR_NOT_FOUND": wasmplug.NotFound, "WP_ERR_BUSY": wasmplug.Busy,
    "WP_ERR_NO_MEMORY": wasmplug.NoMemory,
}


def test_error_kinds_match_the_header():
    """Every WP_ERR_* kind of the installed header maps to its own class."""
    text = _headers()
    body = re.search(r"typedef enum wp_error_kind \{(.*?)\} wp_error_kind;", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = re.findall(r"\b(WP_ERR_[A-Z_]+)", body)
    assert re.search(r"WP_ERR_LOAD\s*=\s*1\b", body) and "=" not in body.split(",", 1)[1]
    assert names == list(EXPECTED)
    for value, name in enumerate(names, start=1):
        cls = EXPECTED[name]
        assert _errors.KINDS[value] is cls and cls.kind == value
        assert cls.kind_name == _ffi.lib.wp_error_kind_name(value).decode()
        assert issubclass(cls, wasmplug.Error)
    assert issubclass(wasmplug.WasmplugTimeout, TimeoutError)
    assert issubclass(wasmplug.BadInput, ValueError)


def _import_in(env):
    code = "import wasmplug; print(wasmplug.LIB_PATH)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env, cwd=os.path.join(HERE, ".."))


def test_library_lookup_order():
    prefix = os.environ["WASMPLUG_PREFIX"]
    base = {k: v for k, v in os.environ.items()
            if k not in ("WASMPLUG_LIB", "WASMPLUG_PREFIX", "LD_LIBRARY_PATH")}
    base["PYTHONPATH"] = os.path.join(HERE, "..")
    # 2. the installed tree
    r = _import_in({**base, "WASMPLUG_PREFIX": prefix})
    assert r.returncode == 0, r.stderr
    assert os.path.realpath(r.stdout.strip()) == \
        os.path.realpath(os.path.join(prefix, "lib", "libwasmplug.so"))
    # 1. WASMPLUG_LIB comes first
    lib = os.path.join(prefix, "lib", "libwasmplug.so.0")
    r = _import_in({**base, "WASMPLUG_PREFIX": "/nonexistent", "WASMPLUG_LIB": lib})
    assert r.returncode == 0 and r.stdout.strip() == lib, r.stderr
    # 3. the system loader (LD_LIBRARY_PATH)
    r = _import_in({**base, "LD_LIBRARY_PATH": os.path.join(prefix, "lib")})
    assert r.returncode == 0 and "libwasmplug.so" in r.stdout, r.stderr
    # nothing found: an ImportError naming what was tried
    import ctypes.util
    if ctypes.util.find_library("wasmplug") is None:
        r = _import_in({**base, "WASMPLUG_LIB": "/nonexistent/libwasmplug.so"})
        assert r.returncode != 0
        assert "ImportError" in r.stderr and "/nonexistent/libwasmplug.so" in r.stderr
        assert "WASMPLUG_PREFIX" in r.stderr
