"""The optional compiled fast path (cffi, out-of-line API mode; built by
_fast_build.py at pip install, or into a cache for the source tree).

Picked at import:
  - WASMPLUG_PY_FFI=ctypes: never (the pure ctypes binding);
  - WASMPLUG_PY_FFI=cffi: always, or the import fails saying why;
  - otherwise: when the module is there (in the package, or in the directory
    $WASMPLUG_PY_FAST_DIR names) and links to the very library ctypes
    loaded; else ctypes, and REASON says why.
"""
import glob
import importlib.util
import os
import sys
import threading
from ctypes import c_void_p, cast

from ._ffi import lib as _clib

ffi = lib = None
REASON = None
MODULE = "wasmplug._wasmplug_fast"


def _import():
    if importlib.util.find_spec(MODULE) is not None:
        return importlib.import_module(MODULE)    # built by pip install
    d = os.environ.get("WASMPLUG_PY_FAST_DIR")
    if not d:
        raise ImportError("the compiled module is not in the package (pip install without a "
                          "C compiler, or a source tree) and WASMPLUG_PY_FAST_DIR is not set")
    found = sorted(glob.glob(os.path.join(d, "wasmplug", "_wasmplug_fast*.so"))
                   + glob.glob(os.path.join(d, "_wasmplug_fast*.so")))
    if not found:
        raise ImportError(f"no _wasmplug_fast*.so in WASMPLUG_PY_FAST_DIR={d}")
    spec = importlib.util.spec_from_file_location(MODULE, found[0])
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    sys.modules[MODULE] = m
    return m


def _load():
    global ffi, lib, REASON
    want = os.environ.get("WASMPLUG_PY_FFI", "").strip().lower()
    if want == "ctypes":
        REASON = "WASMPLUG_PY_FFI=ctypes"
        return
    if want not in ("", "cffi"):
        raise ImportError(f"wasmplug: WASMPLUG_PY_FFI={want!r}: expected cffi or ctypes")
    try:
        m = _import()
        # The module must call the library ctypes loaded, not another copy.
        mine = m.lib.wpf_call_func_addr()
        theirs = cast(_clib.wp_instance_call_func, c_void_p).value
        if mine != theirs:
            raise ImportError(f"the compiled module links to another libwasmplug "
                              f"({mine:#x} != {theirs:#x})")
    except ImportError as e:
        if want == "cffi":
            raise ImportError(f"wasmplug: WASMPLUG_PY_FFI=cffi but the compiled fast path "
                              f"cannot be loaded: {e}") from None
        REASON = str(e)
        return
    ffi, lib = m.ffi, m.lib


_load()

# The output buffer of bytes calls, one per thread (a call's output is
# copied into it in C and read from it right after, on the same thread).
CAP = 4096
_tls = threading.local()


def thread_buf():
    c = ffi.new("char[]", CAP)
    b = _tls.b = (c, ffi.buffer(c))
    return b


# The wp_val arrays of numeric calls of the other signatures, one pair per
# thread: arguments packed in Python, results read back, by the same thread.
NVALS = 64


def thread_vals():
    a = ffi.new("char[]", 16 * NVALS)
    r = ffi.new("char[]", 16 * NVALS)
    v = _tls.v = (a, r, ffi.buffer(a), ffi.buffer(r))
    return v


def take_big(n):
    p = lib.wpf_take_big()
    try:
        return ffi.unpack(ffi.cast("char *", p), n)
    finally:
        lib.wpf_free(p)


def new_inst(ptr):
    ci = lib.wpf_inst_new(ptr)
    if ci == ffi.NULL:
        raise MemoryError("wasmplug: out of memory")
    return ffi.gc(ci, lib.wpf_inst_free)


class CLock:
    """An Instance's lock when the fast path is in use: the C lock that the
    compiled calls take (threading.Lock's interface)."""
    __slots__ = ("ci",)

    def __init__(self, ci):
        self.ci = ci

    def acquire(self, blocking=True):
        if lib.wpf_try_lock(self.ci):
            return True
        if not blocking:
            return False
        lib.wpf_lock(self.ci)           # waits with the GIL released
        return True

    def release(self):
        lib.wpf_unlock(self.ci)

    def __enter__(self):
        self.acquire()
        return True

    def __exit__(self, *exc):
        self.release()
