"""wasmplug: run untrusted WebAssembly plugins from Python.

A ctypes binding over the installed libwasmplug, with an optional compiled
fast path for the hot calls (cffi; see fast_path()) (see README.md for how the
library is found). Every handle is a context manager; close() is idempotent
and the garbage collector frees what is not closed.

    import wasmplug
    with wasmplug.Engine() as engine, engine.load("hello.wasm") as plugin, \\
            plugin.instance() as inst:
        print(inst.call_string("greet", "world"))
"""
from ._errors import (AbiError, BadInput, Busy, Error, HostError, Interrupted, LinkError,
                      LoadError, MemoryLimit, NoMemory, NotFound, OutOfFuel, PluginError, Trap,
                      WasmplugIOError, WasmplugTimeout)
from ._core import (BoundFunc, Engine, ExternInfo, Func, HostCall, Instance, LogLevel, Manifest, Plugin,
                    Pool, PooledInstance, ResourceType)
from ._values import Err, Ok, Resource, ResultError, Some, Variant
from ._ffi import LIB_PATH
from . import _fast


def fast_path():
    """Which way the hot calls reach the library: "cffi" (the compiled fast
    path) or "ctypes" (the fallback). fast_path_reason() says why ctypes."""
    return "cffi" if _fast.lib is not None else "ctypes"


def fast_path_reason():
    """Why the compiled fast path is not in use (None when it is)."""
    return _fast.REASON

__version__ = "0.1.0"

__all__ = [
    "Engine", "Manifest", "Plugin", "Func", "Instance", "BoundFunc", "Pool", "PooledInstance",
    "ExternInfo", "HostCall", "LogLevel", "ResourceType", "Resource", "Variant", "Some", "Ok",
    "Err", "ResultError",
    "Error", "LoadError", "LinkError", "Trap", "WasmplugTimeout", "Interrupted", "OutOfFuel",
    "MemoryLimit", "BadInput", "AbiError", "HostError", "PluginError", "WasmplugIOError",
    "NotFound", "Busy", "NoMemory", "LIB_PATH", "fast_path", "fast_path_reason",
]
