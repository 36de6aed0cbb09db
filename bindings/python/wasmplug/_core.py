"""Engine, Manifest, Plugin, Instance, Pool and function handles."""
import ctypes
import enum
import json
import operator
import os
import struct
import sys
import threading
import traceback
import weakref
from collections import namedtuple
from ctypes import byref, c_size_t, c_uint32, c_void_p

from . import _errors, _fast
from ._errors import BadInput, check
from ._ffi import (COMPONENT_FN, HOST_BYTES_FN, HOST_FN, LOG_FN, RESOURCE_DROP_FN, WpVal,
                   error_new, lib)
from ._values import Context, from_c, to_c

WP_ERR_HOST = 10
I32, I64, F32, F64 = 0, 1, 2, 3
_KIND_NAMES = {"i32": I32, "i64": I64, "f32": F32, "f64": F64}
_KIND_STR = {v: k for k, v in _KIND_NAMES.items()}
# wp_val: the kind (an int) at offset 0, the value at offset 8; 16 bytes.
# Arguments are packed with their kinds; results are read skipping them.
_ARG_FMT = {I32: "i4xi4x", I64: "i4xq", F32: "i4xf4x", F64: "i4xd"}
_RES_FMT = {I32: "8xi4x", I64: "8xq", F32: "8xf4x", F64: "8xd"}


def _packer(st, kinds):
    """pack(buf, *args): the wp_val array of `kinds` holding args, in one
    struct.pack_into (specialized for the common arities)."""
    pack_into = st.pack_into
    n = len(kinds)
    if n == 0:
        return lambda buf: None
    if n == 1:
        k0, = kinds
        return lambda buf, a: pack_into(buf, 0, k0, a)
    if n == 2:
        k0, k1 = kinds
        return lambda buf, a, b: pack_into(buf, 0, k0, a, k1, b)
    if n == 3:
        k0, k1, k2 = kinds
        return lambda buf, a, b, c: pack_into(buf, 0, k0, a, k1, b, k2, c)
    return lambda buf, *args: pack_into(buf, 0, *[x for kv in zip(kinds, args) for x in kv])

_DEFAULT = object()
_MISSING = object()
_CODE = {}


def _compiled(src):
    """The code of a generated call (compiled once per signature: pools
    make new instances, and so new function handles, all the time)."""
    code = _CODE.get(src)
    if code is None:
        code = _CODE[src] = compile(src, "<wasmplug call>", "exec")
    return code


class LogLevel(enum.IntEnum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


ExternInfo = namedtuple("ExternInfo", "module name kind type")
_EXTERN_KINDS = ("func", "memory", "table", "global", "tag", "resource")


def _closed(what):
    return ValueError(f"wasmplug: the {what} is closed")


def _size(v, what):
    """An int, or a size string such as "16MiB"."""
    if isinstance(v, str):
        out = ctypes.c_uint64()
        if not lib.wp_parse_size(v.encode(), byref(out)):
            raise BadInput(f"{what}: {v!r} is not a size (e.g. 65536, \"16MiB\")")
        return out.value
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise BadInput(f"{what}: expected a non-negative int or a size string, got {v!r}")
    return v


def _kinds(spec, what):
    out = []
    for s in spec:
        k = _KIND_NAMES.get(s) if isinstance(s, str) else None
        if k is None:
            raise BadInput(f"{what}: {s!r} is not a numeric type (i32, i64, f32, f64)")
        out.append(k)
    return out


def _unraisable(where):
    print(f"wasmplug: exception in {where} (ignored):", file=sys.stderr)
    traceback.print_exc()


class _Handle:
    """A C handle freed by close(), by `with`, or by the garbage collector."""
    _what = "handle"
    _ptr = None

    def _own(self, ptr, free, *keep):
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, free, ptr, *keep)

    def close(self):
        """Frees the C object. Safe to call more than once."""
        fin = getattr(self, "_finalizer", None)
        self._ptr = None
        if fin is not None:
            fin()

    @property
    def closed(self):
        return self._ptr is None

    def _p(self):
        p = self._ptr
        if p is None:
            raise _closed(self._what)
        return p

    def __enter__(self):
        self._p()
        return self

    def __exit__(self, *exc):
        self.close()


def _free_with(fn):
    def free(ptr, *keep):
        fn(ptr)
    return free


class Engine(_Handle):
    """One per process: compile cache, pooling, limits, timer thread, host
    functions and the log callback.

    Keyword arguments (all optional): cache_dir (None turns the cache off),
    pooling (max live instances, 0 off), max_memory, max_module_size (ints
    or "16MiB"), max_functions, pool_table_elements, pool_instance_size,
    instantiate_timeout_ms, tick_us, isolation ("none" or "process": where
    instances of plugins whose manifest does not say run), worker_path (the
    worker program for process isolation; default $WASMPLUG_WORKER, else the
    installed wasmplug), and log: a callable
    log(level: LogLevel, plugin: str, message: str), called on the thread
    that runs the plugin."""
    _what = "engine"

    def __init__(self, *, cache_dir=_DEFAULT, pooling=None, max_memory=None, max_module_size=None,
                 max_functions=None, pool_table_elements=None, pool_instance_size=None,
                 instantiate_timeout_ms=None, tick_us=None, isolation=None, worker_path=None,
                 log=None):
        # Everything C may call back into lives here, and every handle made
        # from this engine keeps it alive until its C object is freed.
        self._keep = []
        self._resources = {}
        self._log = log
        cfg = lib.wp_engine_config_new()
        if not cfg:
            raise MemoryError("wasmplug: out of memory")
        try:
            if cache_dir is not _DEFAULT:
                lib.wp_engine_config_set_cache_dir(
                    cfg, None if cache_dir is None else os.fsencode(cache_dir))
            if pooling is not None:
                lib.wp_engine_config_set_pooling(cfg, pooling)
            if max_memory is not None:
                lib.wp_engine_config_set_max_memory(cfg, _size(max_memory, "max_memory"))
            if max_module_size is not None:
                lib.wp_engine_config_set_max_module_size(
                    cfg, _size(max_module_size, "max_module_size"))
            if max_functions is not None:
                lib.wp_engine_config_set_max_functions(cfg, max_functions)
            if pool_table_elements is not None:
                lib.wp_engine_config_set_pool_table_elements(cfg, pool_table_elements)
            if pool_instance_size is not None:
                lib.wp_engine_config_set_pool_instance_size(
                    cfg, _size(pool_instance_size, "pool_instance_size"))
            if instantiate_timeout_ms is not None:
                lib.wp_engine_config_set_instantiate_timeout_ms(cfg, instantiate_timeout_ms)
            if tick_us is not None:
                lib.wp_engine_config_set_tick_us(cfg, tick_us)
            if isolation is not None:
                modes = {"default": 0, "none": 1, "process": 2}
                if isolation not in modes:
                    raise BadInput(f"isolation: {isolation!r} is not one of {list(modes)}")
                lib.wp_engine_config_set_isolation(cfg, modes[isolation])
            if worker_path is not None:
                lib.wp_engine_config_set_worker_path(cfg, os.fsencode(worker_path))
            if log is not None:
                if not callable(log):
                    raise TypeError("log must be callable")
                cb = LOG_FN(self._make_log(log))
                self._keep.append(cb)
                lib.wp_engine_config_set_log(cfg, cb, None)
            out = c_void_p()
            check(lib.wp_engine_new(cfg, byref(out)))
        finally:
            lib.wp_engine_config_free(cfg)
        self._own(out.value, _free_with(lib.wp_engine_free), self._keep)

    @staticmethod
    def _make_log(fn):
        def log(_ud, level, plugin, msg, n):
            try:
                text = ctypes.string_at(msg, n).decode("utf-8", "replace") if n else ""
                try:
                    lvl = LogLevel(level)
                except ValueError:
                    lvl = level
                fn(lvl, (plugin or b"").decode("utf-8", "replace"), text)
            except BaseException:
                _unraisable("the log callback")
        return log

    # -- loading ---------------------------------------------------------
    def load(self, path, manifest=None):
        """Loads a plugin from a .wasm or .wat file (Plugin)."""
        return Plugin.from_file(self, path, manifest)

    def load_bytes(self, data, name="bytes", manifest=None):
        """Loads a plugin from bytes (binary or .wat text)."""
        return Plugin.from_bytes(self, data, name, manifest)

    # -- host functions --------------------------------------------------
    def define_func(self, module, name, fn=None, *, params=(), results=(), with_call=False):
        """Offers a numeric host function `module`.`name` with the given
        types ("i32", "i64", "f32", "f64"). fn(*args) returns None, a
        number, or a tuple for several results. An exception fails the
        plugin's call (HostError carrying its text). Usable as a decorator.
        with_call=True passes a HostCall first (time left, interrupted)."""
        if fn is None:
            return lambda f: self.define_func(module, name, f, params=params, results=results,
                                              with_call=with_call)
        pk, rk = _kinds(params, "params"), _kinds(results, "results")
        label = f"{module}.{name}"

        def tramp(call, args_p, nargs, res_p, nres, _ud):
            try:
                args = (WpVal * nargs).from_address(args_p) if nargs else ()
                py = [_read_val(v) for v in args]
                with _InHost(call, with_call) as hc:
                    r = fn(hc, *py) if with_call else fn(*py)
                if nres == 0:
                    if r is not None:
                        raise TypeError(f"returned {r!r} but declares no results")
                    return None
                rs = (r,) if nres == 1 and not isinstance(r, (tuple, list)) else tuple(r)
                if len(rs) != nres:
                    raise TypeError(f"returned {len(rs)} results, declares {nres}")
                out = (WpVal * nres).from_address(res_p)
                for i, (k, v) in enumerate(zip(rk, rs)):
                    _write_val(out[i], k, v)
                return None
            except BaseException as e:
                return _host_error(label, e)

        cb = HOST_FN(tramp)
        pa = (ctypes.c_int * max(len(pk), 1))(*pk)
        ra = (ctypes.c_int * max(len(rk), 1))(*rk)
        check(lib.wp_engine_define_func(self._p(), module.encode(), name.encode(), pa, len(pk), ra,
                                        len(rk), cb, None, None))
        self._keep.append(cb)
        return fn

    def define_bytes(self, module, name, fn=None, *, with_call=False):
        """Offers a bytes host function: fn(data: bytes) -> bytes (None:
        empty). Usable as a decorator; with_call as for define_func."""
        return self._define_bytes(module, name, fn, False, with_call)

    def define_string(self, module, name, fn=None, *, with_call=False):
        """Offers a string host function: fn(text: str) -> str (the guest's
        input is checked to be UTF-8 first). Usable as a decorator."""
        return self._define_bytes(module, name, fn, True, with_call)

    def _define_bytes(self, module, name, fn, text, with_call):
        if fn is None:
            return lambda f: self._define_bytes(module, name, f, text, with_call)
        label = f"{module}.{name}"

        def tramp(call, data, n, _ud):
            try:
                b = ctypes.string_at(data, n) if n else b""
                arg = b.decode("utf-8") if text else b
                with _InHost(call, with_call) as hc:
                    r = fn(hc, arg) if with_call else fn(arg)
                if r is None:
                    r = b""
                if text:
                    if not isinstance(r, str):
                        raise TypeError(f"returned {type(r).__name__}, expected str")
                    r = r.encode("utf-8")
                elif not isinstance(r, (bytes, bytearray, memoryview)):
                    raise TypeError(f"returned {type(r).__name__}, expected bytes")
                r = bytes(r)
                return lib.wp_host_call_set_output(call, r, len(r))
            except BaseException as e:
                return _host_error(label, e)

        cb = HOST_BYTES_FN(tramp)
        define = lib.wp_engine_define_string if text else lib.wp_engine_define_bytes
        check(define(self._p(), module.encode(), name.encode(), cb, None, None))
        self._keep.append(cb)
        return fn

    def define_resource(self, interface, name, drop=None):
        """Defines resource `name` in `interface`, implemented by the host,
        for components that import it, and returns its ResourceType. Its
        objects are any Python objects: a host function returning
        own<name> returns the object, one taking own/borrow<name> receives
        it. drop(obj), if given, runs once per handle when the plugin drops
        it or its instance goes. Define the constructor and methods with
        define_component_func ("[constructor]NAME", "[method]NAME.M")."""
        rt = ResourceType(self, interface, name, drop)
        self._resources[name] = rt
        return rt

    def define_component_func(self, interface, name, fn=None, *, with_call=False):
        """Offers a function to components importing `name` from `interface`
        (None: the world's top level). fn receives the arguments as Python
        values (see wasmplug's value mapping) and returns the result. Usable
        as a decorator; with_call as for define_func."""
        if fn is None:
            return lambda f: self.define_component_func(interface, name, f, with_call=with_call)
        label = f"{interface}#{name}" if interface else name
        bname = name.encode()
        biface = interface.encode() if interface else None
        resources = self._resources

        def tramp(call, args_p, nargs, res_p, _ud):
            try:
                with _InHost(call, with_call) as hc, \
                        Context(hc.instance_ptr, resources):
                    ft = lib.wp_host_call_get_functype(call)
                    args = [from_c(args_p[i], lib.wp_functype_param_type(ft, i))
                            for i in range(nargs)]
                    r = fn(hc, *args) if with_call else fn(*args)
                    rt = lib.wp_functype_result(ft)
                    if rt:
                        try:
                            res_p[0] = to_c(r, rt, "result")
                        except _errors.Error as ce:  # the result's type: WP_ERR_HOST
                            raise TypeError(ce.message) from None
                    elif r is not None:
                        raise TypeError(f"returned {r!r} but the function has no result")
                return None
            except BaseException as e:
                return _host_error(label, e)

        cb = COMPONENT_FN(tramp)
        check(lib.wp_engine_define_component_func(self._p(), biface, bname, cb, None, None))
        self._keep.append(cb)
        return fn


_tls = threading.local()


def _host_error(label, e):
    """The wp_error a host function's exception becomes: a wasmplug.Error
    keeps its kind (raise Interrupted or WasmplugTimeout to end a call that
    HostCall says is over), anything else is WP_ERR_HOST with the
    exception's type and text."""
    if isinstance(e, _errors.Error) and e.kind:
        return error_new(e.kind, f"{label}: {e.message}")
    return error_new(WP_ERR_HOST, f"{label}: {type(e).__name__}: {e}")


def _host_stack():
    """The wp_instance pointers whose host functions this thread is inside."""
    st = getattr(_tls, "stack", None)
    if st is None:
        st = _tls.stack = []
    return st


class HostCall:
    """The context of one call from a plugin into a host function (passed
    first to host functions defined with with_call=True). Valid only during
    that call: afterwards its methods raise ValueError."""
    __slots__ = ("_call", "instance_ptr", "plugin_name")

    def __init__(self, call, inst):
        self._call = call
        self.instance_ptr = inst
        p = lib.wp_instance_get_plugin(inst) if inst else None
        self.plugin_name = lib.wp_plugin_get_name(p).decode("utf-8", "replace") if p else None

    def _p(self):
        if self._call is None:
            raise ValueError("wasmplug: a HostCall is valid only during its host function")
        return self._call

    @property
    def time_left_ms(self):
        """Milliseconds left before the plugin call's deadline (0 once it
        has passed), or None when the call has no time limit: a host
        function that waits should wait no longer."""
        t = lib.wp_host_call_time_left_ms(self._p())
        return None if t == 2**64 - 1 else t

    @property
    def interrupted(self):
        """Whether Instance.interrupt() was called during this call: a host
        function that waits should give up (raise)."""
        return bool(lib.wp_host_call_interrupted(self._p()))

    def check(self):
        """Raises Interrupted if the call was interrupted, WasmplugTimeout if
        its deadline has passed; for host functions that wait in steps."""
        if self.interrupted:
            raise _errors.Interrupted("the plugin's call was interrupted")
        if self.time_left_ms == 0:
            raise _errors.WasmplugTimeout("the plugin's call ran out of time")


class _InHost:
    """`with _InHost(call):` marks the calling instance as busy on this
    thread, and gives the HostCall."""
    __slots__ = ("hc",)

    def __init__(self, call, with_call=True):
        self.hc = HostCall(call, lib.wp_host_call_get_instance(call))

    def __enter__(self):
        _host_stack().append(self.hc.instance_ptr)
        return self.hc

    def __exit__(self, *exc):
        _host_stack().pop()
        self.hc._call = None


class ResourceType:
    """A resource type the host implements (Engine.define_resource). Its
    objects are Python objects, kept here while the plugin holds handles
    to them."""

    def __init__(self, engine, interface, name, drop):
        self.interface, self.name = interface, name
        self._objects = {}
        self._next = iter(range(1, 2**62)).__next__   # atomic under the GIL

        def drop_tramp(key, _ud):
            try:
                obj = self._objects.pop(key, None)
                if drop is not None and obj is not None:
                    drop(obj)
            except BaseException:
                _unraisable(f"the drop callback of resource {name!r}")

        cb = RESOURCE_DROP_FN(drop_tramp)
        out = c_void_p()
        check(lib.wp_engine_define_resource(engine._p(), interface.encode() if interface else None,
                                            name.encode(), cb, None, None, byref(out)))
        engine._keep.append(cb)
        self._ptr = out.value

    def __repr__(self):
        return f"<wasmplug.ResourceType {self.interface}/{self.name}>"

    @property
    def live(self):
        """How many handles to host objects of this type the plugins hold."""
        return len(self._objects)

    def _new_handle(self, inst, obj, path):
        key = self._next()
        self._objects[key] = obj
        v = lib.wp_value_new_resource(inst, self._ptr, key)
        if not v:
            self._objects.pop(key, None)
            raise BadInput(f"{path}: could not make a handle of resource {self.name!r} "
                           "(does the plugin import it?)")
        return v

    def _object_of(self, v, inst):
        out = c_void_p()
        err = lib.wp_value_get_resource(v, inst, self._ptr, byref(out))
        if err:
            lib.wp_error_free(err)
            return False, None
        if out.value not in self._objects:
            return False, None
        return True, self._objects[out.value]


def _read_val(v):
    k = v.kind
    if k == I32:
        return v.of.i32
    if k == I64:
        return v.of.i64
    if k == F32:
        return v.of.f32
    return v.of.f64


def _write_val(v, k, x):
    v.kind = k
    if k in (I32, I64):
        if isinstance(x, bool) or not isinstance(x, int):
            raise TypeError(f"result {x!r} is not an int for {_KIND_STR[k]}")
        bits = 32 if k == I32 else 64
        if not -(1 << (bits - 1)) <= x < (1 << bits):
            raise OverflowError(f"result {x} out of range for {_KIND_STR[k]}")
        if x >= 1 << (bits - 1):
            x -= 1 << bits
        if k == I32:
            v.of.i32 = x
        else:
            v.of.i64 = x
    else:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"result {x!r} is not a float for {_KIND_STR[k]}")
        if k == F32:
            v.of.f32 = x
        else:
            v.of.f64 = x


class Manifest(_Handle):
    """What a plugin may do and how far it may go (deny by default).

    Manifest(data) parses `data`: a dict, or JSON text (str or bytes), in
    the form include/wasmplug/manifest.h documents; base_dir resolves
    relative paths. Keyword arguments then set fields on top: name,
    timeout_ms, memory (int or "16MiB"), fuel, config (dict), env (dict),
    args (list)."""
    _what = "manifest"

    def __init__(self, data=None, *, base_dir=None, name=None, timeout_ms=None, memory=None,
                 fuel=None, config=None, env=None, args=None):
        if data is None:
            ptr = lib.wp_manifest_new()
            if not ptr:
                raise MemoryError("wasmplug: out of memory")
        else:
            if isinstance(data, dict):
                data = json.dumps(data)
            if isinstance(data, str):
                data = data.encode("utf-8")
            if not isinstance(data, (bytes, bytearray)):
                raise TypeError("Manifest data must be a dict or JSON text")
            out = c_void_p()
            check(lib.wp_manifest_parse(bytes(data), len(data),
                                        os.fsencode(base_dir) if base_dir else None, byref(out)))
            ptr = out.value
        self._own(ptr, _free_with(lib.wp_manifest_free))
        try:
            self._apply(name, timeout_ms, memory, fuel, config, env, args)
        except BaseException:
            self.close()
            raise

    def _apply(self, name, timeout_ms, memory, fuel, config, env, args):
        m = self._ptr
        if name is not None:
            check(lib.wp_manifest_set_name(m, name.encode()))
        if timeout_ms is not None:
            lib.wp_manifest_set_timeout_ms(m, timeout_ms)
        if memory is not None:
            lib.wp_manifest_set_max_memory(m, _size(memory, "memory"))
        if fuel is not None:
            lib.wp_manifest_set_fuel(m, fuel)
        for k, v in (config or {}).items():
            check(lib.wp_manifest_set_config(m, k.encode(), v.encode()))
        for k, v in (env or {}).items():
            check(lib.wp_manifest_set_env(m, k.encode(), v.encode()))
        for a in args or ():
            check(lib.wp_manifest_add_arg(m, a.encode()))

    @classmethod
    def load(cls, path):
        """Reads a JSON manifest file (relative paths resolve against it)."""
        out = c_void_p()
        check(lib.wp_manifest_load(os.fsencode(path), byref(out)))
        m = cls.__new__(cls)
        m._own(out.value, _free_with(lib.wp_manifest_free))
        return m

    def config(self, key):
        """The config value of `key`, or None."""
        v = lib.wp_manifest_get_config(self._p(), key.encode())
        return None if v is None else v.decode()

    def to_dict(self):
        """The manifest in its JSON form, as a dict."""
        p = lib.wp_manifest_to_json(self._p())
        if not p:
            raise MemoryError("wasmplug: out of memory")
        try:
            return json.loads(ctypes.string_at(p).decode())
        finally:
            lib.wp_free(p)


def _as_manifest(m):
    """(pointer, temporary Manifest to close) for a Manifest, dict, str or None."""
    if m is None:
        return None, None
    if isinstance(m, Manifest):
        return m._p(), None
    tmp = Manifest(m)
    return tmp._ptr, tmp


class Plugin(_Handle):
    """A loaded, checked, compiled plugin (a core module or a component).
    Immutable and thread-safe; make instances and pools from it."""
    _what = "plugin"

    def __init__(self, engine, path, manifest=None):
        """Loads the plugin at `path` (.wasm or .wat) on `engine`."""
        mp, tmp = _as_manifest(manifest)
        try:
            out = c_void_p()
            check(lib.wp_plugin_load(engine._p(), os.fsencode(path) if path is not None else None,
                                     mp, byref(out)))
        finally:
            if tmp:
                tmp.close()
        self._init(engine, out.value)

    def _init(self, engine, ptr):
        self._engine_keep = engine._keep
        self._resources = engine._resources
        self._own(ptr, _free_with(lib.wp_plugin_free), engine._keep)
        self.is_component = bool(lib.wp_plugin_is_component(ptr))
        self._funcs = {}
        self._funcs_lock = threading.Lock()

    @classmethod
    def from_file(cls, engine, path, manifest=None):
        return cls(engine, path, manifest)

    @classmethod
    def from_bytes(cls, engine, data, name="bytes", manifest=None):
        """Loads a plugin from bytes (binary or .wat text); `name` names it
        in messages."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        data = bytes(data)
        mp, tmp = _as_manifest(manifest)
        try:
            out = c_void_p()
            check(lib.wp_plugin_load_bytes(engine._p(), name.encode(), data, len(data), mp,
                                           byref(out)))
        finally:
            if tmp:
                tmp.close()
        p = cls.__new__(cls)
        p._init(engine, out.value)
        return p

    @property
    def name(self):
        return lib.wp_plugin_get_name(self._p()).decode()

    @property
    def sha256(self):
        return lib.wp_plugin_get_sha256(self._p()).decode()

    @property
    def size(self):
        return lib.wp_plugin_get_size(self._p())

    @property
    def was_cached(self):
        return bool(lib.wp_plugin_was_cached(self._p()))

    def _externs(self, count, get):
        p = self._p()
        out = []
        for i in range(count(p)):
            e = get(p, i).contents
            out.append(ExternInfo(e.module.decode() if e.module else None, e.name.decode(),
                                  _EXTERN_KINDS[e.kind] if e.kind < len(_EXTERN_KINDS) else e.kind,
                                  e.type.decode() if e.type else None))
        return out

    @property
    def imports(self):
        """[ExternInfo(module, name, kind, type)] in the module's order."""
        return self._externs(lib.wp_plugin_import_count, lib.wp_plugin_get_import)

    @property
    def exports(self):
        return self._externs(lib.wp_plugin_export_count, lib.wp_plugin_get_export)

    def func(self, name):
        """A handle on export `name` ("INTERFACE#FUNC" inside a component's
        interface), valid for every instance of this plugin. NotFound if
        there is no such export."""
        f = self._funcs.get(name)
        if f is None or f.closed:
            f = Func(self, name)
            with self._funcs_lock:
                old = self._funcs.get(name)
                if old is None or old.closed:
                    self._funcs[name] = f
                else:
                    f.close()
                    f = old
        return f

    def instance(self):
        """A new Instance."""
        return Instance(self)

    def pool(self, max_uses=0, max_idle=8):
        """A new Pool of instances of this plugin."""
        return Pool(self, max_uses, max_idle)


class Func:
    """A handle on an exported function, found once (wp_plugin_find_func).
    It holds a reference to the C plugin, so it stays valid after the
    Plugin is closed, for the instances still running it."""

    def __init__(self, plugin, name, _ptr=None):
        p = _ptr if _ptr is not None else plugin._p()
        fid = c_uint32()
        check(lib.wp_plugin_find_func(p, name.encode(), byref(fid)))
        ref = lib.wp_plugin_ref(p)
        self._finalizer = weakref.finalize(self, lib.wp_plugin_free, ref)
        self.plugin = plugin
        self._plugin_ptr = p
        self.name = name
        self.id = fid.value
        self.is_bytes = bool(lib.wp_plugin_is_bytes_func(p, self.id))
        self.is_component = bool(lib.wp_plugin_is_component(p))
        self.params = self.results = None
        self.functype = None
        self.type = None
        if self.is_component:
            self.functype = lib.wp_plugin_get_functype(p, self.id)
            self.type = lib.wp_functype_to_string(self.functype).decode()
            self._ptypes = [lib.wp_functype_param_type(self.functype, i)
                            for i in range(lib.wp_functype_param_count(self.functype))]
            self._rtype = lib.wp_functype_result(self.functype)
        else:
            for i in range(lib.wp_plugin_export_count(p)):
                e = lib.wp_plugin_get_export(p, i).contents
                if e.kind == 0 and e.name == name.encode() and e.module is None:
                    self.type = e.type.decode() if e.type else None
                    if e.numeric:
                        self.params = [e.params[j] for j in range(e.nparams)]
                        self.results = [e.results[j] for j in range(e.nresults)]
                    break
        if self.params is not None:
            self._args_fmt = struct.Struct("<" + "".join(_ARG_FMT[k] for k in self.params))
            self._pack = _packer(self._args_fmt, self.params)
            self._res_fmt = struct.Struct("<" + "".join(_RES_FMT[k] for k in self.results))

    def __repr__(self):
        return f"<wasmplug.Func {self.name}: {self.type}>"

    def close(self):
        """Drops the handle's reference to the C plugin. Safe to call more
        than once; the garbage collector does it otherwise."""
        self._finalizer()

    @property
    def closed(self):
        return not self._finalizer.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _numeric_buffers(self):
        if self.params is None:
            raise BadInput(f"export {self.name!r} ({self.type}) is not a numeric function: "
                           "use call_bytes, call_string or invoke")
        args = (WpVal * max(len(self.params), 1))()
        res = (WpVal * max(len(self.results), 1))()
        for i, k in enumerate(self.params):
            args[i].kind = k
        for i, k in enumerate(self.results):
            res[i].kind = k
        return args, res

    def _pack_slow(self, buf, args):
        """Range checks and wrapping of unsigned i32/i64 input, then packs."""
        if len(args) != len(self.params):
            raise BadInput(f"{self.name}: takes {len(self.params)} argument(s) "
                           f"({self.type}), got {len(args)}")
        fixed = []
        for i, (k, a) in enumerate(zip(self.params, args)):
            if k in (I32, I64):
                if isinstance(a, bool) or not isinstance(a, int):
                    raise BadInput(f"{self.name}: argument {i} must be an int for "
                                   f"{_KIND_STR[k]}, got {type(a).__name__}")
                bits = 32 if k == I32 else 64
                if not -(1 << (bits - 1)) <= a < (1 << bits):
                    raise BadInput(f"{self.name}: argument {i} = {a} is out of range for "
                                   f"{_KIND_STR[k]}")
                if a >= 1 << (bits - 1):
                    a -= 1 << bits
            else:
                if isinstance(a, bool) or not isinstance(a, (int, float)):
                    raise BadInput(f"{self.name}: argument {i} must be a float for "
                                   f"{_KIND_STR[k]}, got {type(a).__name__}")
                a = float(a)
            fixed.append(a)
        try:
            self._pack(buf, *fixed)
        except (struct.error, OverflowError) as e:
            raise BadInput(f"{self.name}: {e}") from None


class Instance(_Handle):
    """A sandbox made from a plugin. Calls on one instance are serialized
    (a lock); interrupt() may come from any thread."""
    _what = "instance"

    def __init__(self, plugin):
        out = c_void_p()
        check(lib.wp_instance_new(plugin._p(), byref(out)))
        self._setup(plugin, out.value)
        self._own(out.value, _free_with(lib.wp_instance_free), plugin._engine_keep)

    def _setup(self, plugin, ptr):
        self.plugin = plugin
        self._plugin_ptr = lib.wp_instance_get_plugin(ptr)
        self.plugin_name = lib.wp_plugin_get_name(self._plugin_ptr).decode("utf-8", "replace")
        self._vp = c_void_p(ptr)
        if _fast.lib is not None:
            # The compiled calls take this lock in C (one compare-and-swap).
            self._ci = _fast.new_inst(ptr)
            self._lock = _fast.CLock(self._ci)
        else:
            self._ci = None
            self._lock = threading.Lock()
        self._life = threading.Lock()
        self._bound = {}

    # A call holds self._lock. A host function calling back into the
    # instance that called it would deadlock: the trampolines note which
    # instances the current thread is inside (_host_stack), and that is
    # refused instead.
    def _enter(self):
        if not self._lock.acquire(False):
            self._wait()
        if self._ptr is None:
            self._lock.release()
            raise _closed(self._what)
        return self._ptr

    def _wait(self):
        if self._ptr is not None and self._ptr in _host_stack():
            raise BadInput("wasmplug: a host function called into the instance that called it")
        self._lock.acquire()

    def _leave(self):
        self._lock.release()

    def _free_now(self):
        self._finalizer()

    def close(self):
        """Frees the instance (waits for a call running on another thread)."""
        if self._ptr is None:
            return
        if self._ptr in _host_stack():
            raise BadInput("wasmplug: an instance cannot be closed from its own host function")
        with self._lock, self._life:
            if self._ptr is None:
                return
            self._ptr = None
            if self._ci is not None:
                _fast.lib.wpf_inst_clear(self._ci)
            self._free_now()

    def _func(self, f):
        if isinstance(f, Func):
            if f.closed:
                raise _closed("function handle")
            if f._plugin_ptr != self._plugin_ptr:
                raise BadInput(f"function handle {f.name!r} belongs to another plugin")
            return f
        # Looked up on the C plugin the instance runs, which lives as long
        # as the instance, even when the Plugin has been closed.
        return Func(self.plugin, f, self._plugin_ptr)

    def func(self, name):
        """A BoundFunc: export `name` (or a Func) on this instance, for repeated calls."""
        if isinstance(name, str):
            key = name
        else:
            if name.closed:
                raise _closed("function handle")
            key = (name.name, name.id, name._plugin_ptr)
        b = self._bound.get(key)
        if b is None:
            if self._ptr is None:
                raise _closed(self._what)
            b = self._bound[key] = BoundFunc(self, self._func(name))
        return b

    def call(self, func, *args):
        """Calls a numeric export: returns None, the result, or a tuple."""
        return self.func(func).call(*args)

    def call_bytes(self, func, data):
        """Calls a bytes export (core bytes ABI, or a component's list<u8>/
        string function) and returns the bytes it returns."""
        return self.func(func).call_bytes(data)

    def call_string(self, func, text):
        """As call_bytes for str."""
        return self.func(func).call_string(text)

    def invoke(self, func, *args):
        """Calls a component export with Python values; returns its result
        (None when it has none)."""
        return self.func(func).invoke(*args)

    def run(self):
        """Runs a WASI command's _start; returns its exit code."""
        code = ctypes.c_int()
        p = self._enter()
        try:
            check(lib.wp_instance_run(p, byref(code)))
        finally:
            self._leave()
        return code.value

    def reset(self):
        """Instantiates the plugin afresh (use after a failed call)."""
        p = self._enter()
        try:
            check(lib.wp_instance_reset(p))
        finally:
            self._leave()

    def interrupt(self):
        """Stops the call running on this instance (from any thread): it
        fails with Interrupted."""
        with self._life:
            if self._ptr is not None:
                lib.wp_instance_interrupt(self._ptr)

    def _captured(self, get):
        n = c_size_t()
        p = self._enter()
        try:
            d = get(p, byref(n))
            return ctypes.string_at(d, n.value) if d and n.value else b""
        finally:
            self._leave()

    @property
    def stdout(self):
        """Captured stdout (manifest "wasi": {"stdout": "capture"})."""
        return self._captured(lib.wp_instance_get_stdout)

    @property
    def stderr(self):
        return self._captured(lib.wp_instance_get_stderr)

    @property
    def fuel_used(self):
        """Fuel the last call used (0 when not metered)."""
        p = self._enter()
        try:
            return lib.wp_instance_get_fuel_used(p)
        finally:
            self._leave()

    @property
    def memory_size(self):
        """Bytes of linear memory the instance has now."""
        p = self._enter()
        try:
            return lib.wp_instance_get_memory_size(p)
        finally:
            self._leave()


_call_func = lib["wp_instance_call_func"]  # argtypes unset: every argument pre-made
_call_func.restype = c_void_p
_call_func_bytes = lib["wp_instance_call_func_bytes"]
_call_func_bytes.restype = c_void_p
_string_at = ctypes.string_at


class BoundFunc:
    """An export of one instance, looked up once. Calling it makes a numeric
    call (core modules) or an invoke (components); call_bytes, call_string
    and invoke are explicit."""

    def __init__(self, inst, func):
        self.instance = inst
        self.func = func
        self._fid = c_uint32(func.id)
        self._out = c_void_p()
        self._outlen = c_size_t()
        self._outref = byref(self._out)
        self._outlenref = byref(self._outlen)
        if func.params is not None:
            self._args, self._res = func._numeric_buffers()
            self._nargs = c_size_t(len(func.params))
            self._nres = c_size_t(len(func.results))
            self._pack = func._pack
            self._unpack = func._res_fmt.unpack_from
            self._single = len(func.results) == 1
            self._none = len(func.results) == 0
            fast = self._make_fast_call() if _fast.lib is not None else None
            self.call = fast or self._make_call()
        self._component = func.is_component
        self._call_impl = self.invoke if func.is_component else self.call

    def __repr__(self):
        return f"<wasmplug.BoundFunc {self.func.name}: {self.func.type}>"

    # f(*args): invoke for components, the numeric call for core modules.
    # A property made of a C attrgetter hands back the bound callable
    # without a Python frame of its own.
    __call__ = property(operator.attrgetter("_call_impl"), doc="Calls the function.")

    def call(self, *args):
        """A numeric call: None, the result, or a tuple of results."""
        raise BadInput(f"export {self.func.name!r} ({self.func.type}) is not a numeric "
                       "function: use call_bytes, call_string or invoke")

    def _make_call(self):
        """The numeric call as a closure: every buffer and ctypes argument
        made once, looked up as cell variables (the fast path). Signatures
        of up to three parameters of one type and at most one result get a
        closure of their own that writes and reads the wp_val arrays through
        memoryviews; the others pack them with struct."""
        inst, func = self.instance, self.func
        env = {
            "lock": inst._lock, "inst": inst, "vp": inst._vp, "fid": self._fid,
            "args_buf": self._args, "res_buf": self._res, "nargs": self._nargs,
            "nres": self._nres, "pack": self._pack, "unpack": self._unpack,
            "pack_slow": func._pack_slow, "single": self._single, "none": self._none,
            "errors": (struct.error, OverflowError, TypeError, ValueError),
            "from_ptr": _errors.from_ptr, "_closed": _closed, "_call_func": _call_func,
        }
        params, results = func.params, func.results
        fast = len(params) <= 3 and len(set(params)) <= 1 and len(results) <= 1
        if fast:
            # wp_val is 16 bytes with the value at offset 8: item 2 of an
            # i/f view, item 1 of a q/d view, per 16 bytes.
            code = {I32: ("i", 4), I64: ("q", 2), F32: ("f", 4), F64: ("d", 2)}
            if params:
                fmt, per = code[params[0]]
                env["av"] = memoryview(self._args).cast("B").cast(fmt)
                at = [per * i + per // 2 for i in range(len(params))]
                names = ["a%d" % i for i in range(len(params))]
                unpack_args = f"{', '.join(names)}, = args" if params else ""
                stores = "; ".join(f"av[{o}] = {n}" for o, n in zip(at, names))
            if results:
                fmt, per = code[results[0]]
                env["rv"] = memoryview(self._res).cast("B").cast(fmt)
                ret = f"return rv[{per // 2}]"
            else:
                ret = "return None"
            src = f"""
def call(*args):
    if not lock.acquire(False):
        inst._wait()
    try:
        if inst._ptr is None:
            raise _closed("instance")
        try:
            {(unpack_args + '; ' + stores) if params else 'if args: raise TypeError'}
        except errors:
            pack_slow(args_buf, args)
        err = _call_func(vp, fid, args_buf, nargs, res_buf, nres)
        if err:
            raise from_ptr(err)
        {ret}
    finally:
        lock.release()
"""
        else:
            src = """
def call(*args):
    if not lock.acquire(False):
        inst._wait()
    try:
        if inst._ptr is None:
            raise _closed("instance")
        try:
            pack(args_buf, *args)
        except errors:
            pack_slow(args_buf, args)
        err = _call_func(vp, fid, args_buf, nargs, res_buf, nres)
        if err:
            raise from_ptr(err)
        r = unpack(res_buf)
    finally:
        lock.release()
    if single:
        return r[0]
    return None if none else r
"""
        exec(_compiled(src), env)  # the source above, with constants only
        call = env["call"]
        call.__doc__ = "A numeric call: None, the result, or a tuple of results."
        return call

    def _wpf(self):
        """The compiled module's handle on this function of this instance."""
        ffi, inst = _fast.ffi, self.instance
        f = ffi.new("wpf_func *")
        f.inst = inst._ci
        f.fid = self.func.id
        return f

    def _generic(self, *args):
        """The ctypes numeric call (made when first needed): the fast call's
        way for what it leaves alone."""
        g = self.__dict__.get("_generic_call")
        if g is None:
            g = self._generic_call = self._make_call()
        return g(*args)

    def _make_fast_call(self):
        """The numeric call through the compiled module, for signatures of
        up to three parameters and at most one result, all integers
        (i32/i64) or all floats (f32/f64): the arguments go to C as they are,
        the lock is taken there and the result comes back as the return
        value. Anything unusual (a wrong argument, the lock taken, a closed
        instance) goes to _generic, the ctypes call under the same lock,
        which raises the right error or waits."""
        params, results = self.func.params, self.func.results
        kinds = set(params) | set(results)
        if len(params) > 3 or len(results) > 1:
            return self._make_fast_call_vals()
        if kinds <= {I32, I64}:
            fam, sentinel = "i", "r == -9223372036854775808"
        elif kinds <= {F32, F64}:
            fam, sentinel = "f", "r != r"
        else:
            return self._make_fast_call_vals()
        lib = _fast.lib
        f = self._wpf()
        f.np, f.nres = len(params), len(results)
        for i, k in enumerate(params):
            f.pk[i] = k
        f.rk = results[0] if results else 0
        self._wpf_keep = (f, self.instance._ci)
        from_ptr, take_error = _errors.from_ptr, lib.wpf_take_error
        generic = self._generic

        def fail(st, args):
            if st == 2:                         # WPF_CLOSED
                raise _closed("instance")
            if st == 4:                         # WPF_ERR
                raise from_ptr(take_error())
            return generic(*args)               # WPF_BUSY (waits), WPF_RANGE (raises)

        def retry(*args):
            # A missing argument arrives as _MISSING: leave it out, so that
            # generic() says how many the function takes.
            return generic(*[a for a in args if a is not _MISSING])

        env = {"cfn": getattr(lib, f"wpf_call_{fam}{len(params)}"), "f": f,
               "retry": retry, "fail": fail, "status": lib.wpf_status,
               "errors": (TypeError, OverflowError), "_MISSING": _MISSING}
        # Named parameters rather than *args (no tuple to build and unpack):
        # one missing is _MISSING, which cffi refuses (TypeError), and extra
        # ones are caught before the call.
        names = [f"a{i}" for i in range(len(params))]
        sig = "".join(f"{n}=_MISSING, " for n in names) + ("/, " if names else "") + "*more"
        passed = ", ".join(["f"] + names)
        src = f"""
def call({sig}):
    if more:
        return retry({''.join(n + ', ' for n in names)}*more)
    try:
        r = cfn({passed})
    except errors:
        return retry({', '.join(names)})
    if {sentinel}:
        st = status()
        if st:
            return fail(st, ({''.join(n + ', ' for n in names)}))
    return {'r' if results else 'None'}
"""
        exec(_compiled(src), env)  # the source above, with constants only
        call = env["call"]
        call.__doc__ = "A numeric call: None, the result, or a tuple of results."
        return call

    def _make_fast_call_vals(self):
        """The numeric call of the other signatures through the compiled
        module: the wp_val arrays are packed and read in Python (struct), in
        buffers of the calling thread; the lock is taken in C."""
        params, results = self.func.params, self.func.results
        if len(params) > _fast.NVALS or len(results) > _fast.NVALS:
            return None
        lib, tls, thread_vals = _fast.lib, _fast._tls, _fast.thread_vals
        f = self._wpf()
        self._wpf_vals_keep = f
        cvals, take_error, from_ptr = lib.wpf_call_vals, lib.wpf_take_error, _errors.from_ptr
        pack, pack_slow, unpack = self._pack, self.func._pack_slow, self._unpack
        nargs, nres = len(params), len(results)
        single, none = nres == 1, nres == 0
        generic = self._generic
        errors = (struct.error, OverflowError, TypeError, ValueError)

        def call(*args):
            """A numeric call: None, the result, or a tuple of results."""
            try:
                ca, cr, pa, pr = tls.v
            except AttributeError:
                ca, cr, pa, pr = thread_vals()
            try:
                pack(pa, *args)
            except errors:
                pack_slow(pa, args)
            st = cvals(f, ca, nargs, cr, nres)
            if st:
                if st == 1:                     # WPF_BUSY: wait on the ctypes path
                    return generic(*args)
                if st == 2:
                    raise _closed("instance")
                raise from_ptr(take_error())
            r = unpack(pr)
            if single:
                return r[0]
            return None if none else r
        return call

    def call_bytes(self, data):
        """Bytes in, bytes out (a copy)."""
        if _fast.lib is not None:
            self.call_bytes = f = self._make_fast_call_bytes()
        else:
            self.call_bytes = f = self._make_call_bytes()
        return f(data)

    def _make_fast_call_bytes(self):
        inst, name = self.instance, self.func.name
        lock = inst._lock
        lib, tls, thread_buf, take_big, cap = (_fast.lib, _fast._tls, _fast.thread_buf,
                                               _fast.take_big, _fast.CAP)
        cbytes, take_error, from_ptr = lib.wpf_call_bytes, lib.wpf_take_error, _errors.from_ptr
        f = self._wpf()
        self._wpf_keep = (f, inst._ci)

        def call_bytes(data):
            """Bytes in, bytes out (a copy)."""
            if type(data) is not bytes:
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise BadInput(f"{name}: expected bytes, got {type(data).__name__}")
                data = bytes(data)
            try:
                cb, pb = tls.b
            except AttributeError:
                cb, pb = thread_buf()
            n = cbytes(f, data, len(data), cb, cap, 0)
            if n >= 0:
                return pb[0:n] if n <= cap else take_big(n)
            if n == -1:                         # WPF_BUSY: wait for the lock
                inst._wait()
                try:
                    n = cbytes(f, data, len(data), cb, cap, 1)
                    if n >= 0:
                        return pb[0:n] if n <= cap else take_big(n)
                finally:
                    lock.release()
            if n == -2:
                raise _closed("instance")
            if n == -4:
                raise from_ptr(take_error())
            raise _errors.NoMemory("wasmplug: out of memory copying a call's output")
        return call_bytes

    def _make_call_bytes(self):
        inst, name = self.instance, self.func.name
        lock, vp, fid = inst._lock, inst._vp, self._fid
        out, outlen, outref, outlenref = self._out, self._outlen, self._outref, self._outlenref
        from_ptr = _errors.from_ptr

        def call_bytes(data):
            """Bytes in, bytes out (a copy)."""
            if type(data) is not bytes:
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise BadInput(f"{name}: expected bytes, got {type(data).__name__}")
                data = bytes(data)
            if not lock.acquire(False):
                inst._wait()
            try:
                if inst._ptr is None:
                    raise _closed("instance")
                err = _call_func_bytes(vp, fid, data, c_size_t(len(data)), outref, outlenref)
                if err:
                    raise from_ptr(err)
                n = outlen.value
                return _string_at(out.value, n) if n else b""
            finally:
                lock.release()
        return call_bytes

    def call_string(self, text):
        """str in, str out (UTF-8 both ways)."""
        if not isinstance(text, str):
            raise BadInput(f"{self.func.name}: expected str, got {type(text).__name__}")
        try:
            b = text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise BadInput(f"{self.func.name}: the input is not encodable as UTF-8: {e}") from None
        out = self.call_bytes(b)
        try:
            return out.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _errors.AbiError(f"plugin '{self.instance.plugin_name}': '{self.func.name}' "
                                   f"returned bytes that are not UTF-8 ({e}); use call_bytes") \
                from None

    def invoke(self, *args):
        """A component call with Python values (see the value mapping)."""
        f = self.func
        if not f.is_component:
            raise BadInput(f"{f.name!r} is in a core module: use call, call_bytes or call_string")
        if len(args) != len(f._ptypes):
            raise BadInput(f"{f.name}: takes {len(f._ptypes)} argument(s) ({f.type}), "
                           f"got {len(args)}")
        names = [lib.wp_functype_param_name(f.functype, i).decode() for i in range(len(args))]
        made = []
        inst = self.instance
        ctx = Context(inst._ptr, inst.plugin._resources, inst)
        try:
            with ctx:
                for a, t, n in zip(args, f._ptypes, names):
                    made.append(to_c(a, t, f"{f.name}: argument '{n}'"))
            arr = (c_void_p * max(len(made), 1))(*made)
            res = c_void_p()
            p = inst._enter()
            try:
                check(lib.wp_instance_invoke_func(p, f.id, arr, len(made), byref(res)))
            finally:
                inst._leave()
            if not res.value:
                return None
            try:
                with ctx:
                    return from_c(res.value, f._rtype)
            finally:
                lib.wp_value_free(res.value)
        finally:
            for m in made:
                lib.wp_value_free(m)


class PooledInstance(Instance):
    """An instance taken from a Pool: close() (or leaving `with`) gives it
    back to the pool instead of freeing it."""
    _what = "pooled instance"

    def __init__(self, pool, ptr):
        self._setup(pool.plugin, ptr)
        self.pool = pool
        self._own(ptr, _release, pool._core, pool.plugin._engine_keep)


class _PoolCore:
    """The C pool, its lock and how many of its instances are out. The pool
    is freed when its Pool is closed or collected and no instance is out."""

    def __init__(self, ptr):
        self.ptr = ptr
        # Reentrant: a finalizer releasing a collected instance may run
        # inside take() on the same thread (the garbage collector runs
        # wherever an allocation triggers it).
        self.lock = threading.RLock()
        self.out = 0
        self.dead = False

    def free_if_done(self):
        if self.dead and self.out == 0 and self.ptr is not None:
            lib.wp_pool_free(self.ptr)
            self.ptr = None


def _release(inst, core, _keep):
    with core.lock:
        lib.wp_pool_release(core.ptr, inst)
        core.out -= 1
        core.free_if_done()


def _free_pool(core, _keep):
    with core.lock:
        core.dead = True
        core.free_if_done()


class Pool(_Handle):
    """A thread-safe supply of instances of one plugin. Each instance serves
    at most max_uses takes (1: fresh per call, 0: no limit); at most
    max_idle wait. Use `with pool.take() as inst:` or the call helpers."""
    _what = "pool"

    def __init__(self, plugin, max_uses=0, max_idle=8):
        out = c_void_p()
        check(lib.wp_pool_new(plugin._p(), max_uses, max_idle, byref(out)))
        self.plugin = plugin
        self._core = _PoolCore(out.value)
        self._taken = weakref.WeakSet()
        self._ptr = out.value
        self._finalizer = weakref.finalize(self, _free_pool, self._core, plugin._engine_keep)

    def take(self):
        """Hands out a PooledInstance (give it back with close() or `with`)."""
        self._p()
        out = c_void_p()
        with self._core.lock:
            if self._core.dead:
                raise _closed(self._what)
            err = lib.wp_pool_take(self._core.ptr, byref(out))
            if not err:
                self._core.out += 1
        check(err)
        inst = PooledInstance(self, out.value)
        self._taken.add(inst)
        return inst

    def close(self):
        """Gives back the instances still taken, then frees the pool."""
        if self._ptr is None:
            return
        for inst in list(self._taken):
            inst.close()
        self._ptr = None
        self._finalizer()

    @property
    def idle(self):
        """How many instances wait idle now."""
        with self._core.lock:
            if self._core.dead:
                raise _closed(self._what)
            return lib.wp_pool_get_idle(self._core.ptr)

    def call(self, func, *args):
        with self.take() as inst:
            return inst.call(func, *args)

    def call_bytes(self, func, data):
        with self.take() as inst:
            return inst.call_bytes(func, data)

    def call_string(self, func, text):
        with self.take() as inst:
            return inst.call_string(func, text)

    def invoke(self, func, *args):
        with self.take() as inst:
            return inst.invoke(func, *args)
