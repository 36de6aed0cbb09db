"""Component Model values <-> Python, guided by the WIT type.

  bool                 bool
  s8..u64              int (range-checked)
  f32, f64             float (an int is accepted)
  char                 str of one character
  string               str
  list<u8>             bytes (bytearray, memoryview or a list of ints accepted)
  list<T>              list
  tuple<...>           tuple
  record               dict keyed by field name (a dataclass or any object
                       with the fields as attributes, '-' read as '_', accepted)
  variant              Variant(case, value)  (a bare case name is accepted
                       for a case without payload)
  enum                 str (the case name)
  flags                set of str (any iterable of names accepted)
  option<T>            None or the value; Some(v) when T is itself an option
  result<T, E>         Ok(value) or Err(value)
  own<R>, borrow<R>    of a host resource type (Engine.define_resource): the
                       Python object itself; of a resource the plugin
                       implements: a Resource handle
"""
import ctypes
import dataclasses
import threading
import weakref
from collections.abc import Mapping

from ._errors import BadInput, check
from ._ffi import lib

BOOL, S8, U8, S16, U16, S32, U32, S64, U64, F32, F64, CHAR, STRING, LIST, RECORD, TUPLE, \
    VARIANT, ENUM, OPTION, RESULT, FLAGS, OWN, BORROW = range(23)

_INT_RANGES = {S8: (-2**7, 2**7 - 1), U8: (0, 2**8 - 1), S16: (-2**15, 2**15 - 1),
               U16: (0, 2**16 - 1), S32: (-2**31, 2**31 - 1), U32: (0, 2**32 - 1),
               S64: (-2**63, 2**63 - 1), U64: (0, 2**64 - 1)}
_INT_NEW = {S8: lib.wp_value_new_s8, U8: lib.wp_value_new_u8, S16: lib.wp_value_new_s16,
            U16: lib.wp_value_new_u16, S32: lib.wp_value_new_s32, U32: lib.wp_value_new_u32,
            S64: lib.wp_value_new_s64, U64: lib.wp_value_new_u64}
_SIGNED = {S8, S16, S32, S64}


@dataclasses.dataclass(frozen=True)
class Variant:
    """A variant value: `case` is the case name, `value` its payload (None
    for a case without one)."""
    case: str
    value: object = None


@dataclasses.dataclass(frozen=True)
class Some:
    """option's some(value), needed only to tell some(none) from none in
    option<option<T>>; elsewhere a plain value means some."""
    value: object


class ResultError(Exception):
    """Raised by Err.unwrap(): carries the error payload as `.value`."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


@dataclasses.dataclass(frozen=True)
class Ok:
    """result's ok case."""
    value: object = None
    is_ok = True

    def unwrap(self):
        return self.value


@dataclasses.dataclass(frozen=True)
class Err:
    """result's err case; unwrap() raises ResultError(value)."""
    value: object = None
    is_ok = False

    def unwrap(self):
        raise ResultError(self.value)


_tls = threading.local()


class Context:
    """`with Context(inst_ptr, resources, instance):` around a conversion:
    the instance that own/borrow handles belong to, the engine's host
    resource types by name, and the Python Instance (for Resource.drop)."""

    def __init__(self, inst, resources, instance=None):
        self.inst, self.resources, self.instance = inst, resources, instance

    def __enter__(self):
        st = getattr(_tls, "stack", None)
        if st is None:
            st = _tls.stack = []
        st.append(self)
        return self

    def __exit__(self, *exc):
        _tls.stack.pop()


def _context():
    st = getattr(_tls, "stack", None)
    return st[-1] if st else None


class Resource:
    """A handle to a resource the plugin implements (returned by its
    constructor, say). Pass it back to calls on the same instance;
    drop() runs the plugin's destructor. The handle is forgotten when the
    Resource is collected (the plugin's object lives until it is dropped or
    its instance goes)."""

    def __init__(self, value, name, own, instance):
        self._v = value
        self._finalizer = weakref.finalize(self, lib.wp_value_free, value)
        self.name, self.own, self._instance = name, own, instance

    def __repr__(self):
        return f"<wasmplug.Resource {'own' if self.own else 'borrow'}<{self.name}>>"

    def drop(self):
        """Drops an owning handle: the plugin's destructor runs."""
        inst = self._instance
        if inst is None:
            raise BadInput("this Resource came to a host function: the plugin drops it")
        p = inst._enter()
        try:
            check(lib.wp_instance_drop_resource(p, self._v))
        finally:
            inst._leave()


def _resource_name(t):
    s = lib.wp_type_to_string(t).decode()
    for pre in ("own<", "borrow<"):
        if s.startswith(pre) and s.endswith(">"):
            return s[len(pre):-1]
    return s


def type_str(t):
    return lib.wp_type_to_string(t).decode()


def _names(t):
    return [lib.wp_type_get_name(t, i).decode() for i in range(lib.wp_type_get_count(t))]


def _bad(path, msg):
    return BadInput(f"{path}: {msg}")


def _free_all(ptrs):
    for p in ptrs:
        lib.wp_value_free(p)


def _build_children(items, path):
    """items: list of (python value, type, path). Returns a ctypes array of
    owned values; frees what it made if one fails."""
    made = []
    try:
        for v, t, p in items:
            made.append(to_c(v, t, p))
    except BaseException:
        _free_all(made)
        raise
    return (ctypes.c_void_p * max(len(made), 1))(*made), len(made)


def _nonnull(ptr, path):
    if not ptr:
        raise MemoryError(f"{path}: out of memory making a value")
    return ptr


def to_c(v, t, path="value"):
    """A new wp_value (owned by the caller) holding `v` as WIT type `t`."""
    k = lib.wp_type_get_kind(t)
    if k in _INT_RANGES:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise _bad(path, f"expected an integer for {type_str(t)}, got {type(v).__name__}")
        v = v.__index__()
        lo, hi = _INT_RANGES[k]
        if not lo <= v <= hi:
            raise _bad(path, f"{v} is out of range for {type_str(t)} ({lo}..{hi})")
        return _nonnull(_INT_NEW[k](v), path)
    if k == BOOL:
        if not isinstance(v, bool):
            raise _bad(path, f"expected a bool, got {type(v).__name__}")
        return _nonnull(lib.wp_value_new_bool(v), path)
    if k in (F32, F64):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _bad(path, f"expected a float for {type_str(t)}, got {type(v).__name__}")
        f = lib.wp_value_new_f32 if k == F32 else lib.wp_value_new_f64
        return _nonnull(f(float(v)), path)
    if k == CHAR:
        if not isinstance(v, str) or len(v) != 1:
            raise _bad(path, f"expected a str of one character for char, got {v!r}")
        if 0xD800 <= ord(v) <= 0xDFFF:
            raise _bad(path, f"{v!r} is a surrogate, not a Unicode scalar value")
        return _nonnull(lib.wp_value_new_char(ord(v)), path)
    if k == STRING:
        if not isinstance(v, str):
            raise _bad(path, f"expected a str, got {type(v).__name__}")
        try:
            b = v.encode("utf-8")
        except UnicodeEncodeError as e:
            raise _bad(path, f"not encodable as UTF-8: {e}") from None
        return _nonnull(lib.wp_value_new_string_n(b, len(b)), path)
    if k == LIST:
        et = lib.wp_type_get_child(t, 0)
        if lib.wp_type_get_kind(et) == U8 and isinstance(v, (bytes, bytearray, memoryview)):
            b = bytes(v)
            return _nonnull(lib.wp_value_new_bytes(b, len(b)), path)
        if isinstance(v, (str, bytes, Mapping)) or not hasattr(v, "__iter__"):
            raise _bad(path, f"expected a list for {type_str(t)}, got {type(v).__name__}")
        arr, n = _build_children([(x, et, f"{path}[{i}]") for i, x in enumerate(v)], path)
        return _nonnull(lib.wp_value_new_list(arr, n), path)
    if k == TUPLE:
        n = lib.wp_type_get_count(t)
        if not isinstance(v, (tuple, list)) or len(v) != n:
            raise _bad(path, f"expected a tuple of {n} for {type_str(t)}, got {v!r}")
        arr, n = _build_children([(x, lib.wp_type_get_child(t, i), f"{path}[{i}]")
                                  for i, x in enumerate(v)], path)
        return _nonnull(lib.wp_value_new_tuple(arr, n), path)
    if k == RECORD:
        names = _names(t)
        items = []
        for i, name in enumerate(names):
            items.append((_field(v, name, path), lib.wp_type_get_child(t, i), f"{path}.{name}"))
        if isinstance(v, Mapping):
            extra = set(v) - set(names) - {n.replace("-", "_") for n in names}
            if extra:
                raise _bad(path, f"unknown field(s) {sorted(extra)} for {type_str(t)}")
        arr, n = _build_children(items, path)
        cnames = (ctypes.c_char_p * max(n, 1))(*[s.encode() for s in names])
        return _nonnull(lib.wp_value_new_record(cnames, arr, n), path)
    if k == VARIANT:
        names = _names(t)
        if isinstance(v, str):
            case, payload, has = v, None, False
        elif isinstance(v, Variant):
            case, payload, has = v.case, v.value, True
        else:
            raise _bad(path, f"expected a Variant for {type_str(t)}, got {type(v).__name__}")
        if case not in names:
            raise _bad(path, f"no case {case!r} in {type_str(t)} (cases: {', '.join(names)})")
        pt = lib.wp_type_get_child(t, names.index(case))
        if pt:
            if not has:
                raise _bad(path, f"case {case!r} needs a payload: Variant({case!r}, value)")
            p = to_c(payload, pt, f"{path}({case})")
        else:
            if payload is not None:
                raise _bad(path, f"case {case!r} has no payload")
            p = None
        return _nonnull(lib.wp_value_new_variant(case.encode(), p), path)
    if k == ENUM:
        names = _names(t)
        case = getattr(v, "value", v) if not isinstance(v, str) else v
        if not isinstance(case, str) or case not in names:
            raise _bad(path, f"expected one of {names} for {type_str(t)}, got {v!r}")
        return _nonnull(lib.wp_value_new_enum(case.encode()), path)
    if k == FLAGS:
        names = _names(t)
        if isinstance(v, Mapping):
            chosen = [n for n, on in v.items() if on]
        elif isinstance(v, str) or not hasattr(v, "__iter__"):
            raise _bad(path, f"expected a set of flag names for {type_str(t)}, got {v!r}")
        else:
            chosen = list(v)
        for f in chosen:
            if f not in names:
                raise _bad(path, f"no flag {f!r} in {type_str(t)}")
        chosen = sorted(set(chosen), key=names.index)
        arr = (ctypes.c_char_p * max(len(chosen), 1))(*[f.encode() for f in chosen])
        return _nonnull(lib.wp_value_new_flags(arr, len(chosen)), path)
    if k == OPTION:
        if v is None:
            return _nonnull(lib.wp_value_new_none(), path)
        if isinstance(v, Some):
            v = v.value
        inner = to_c(v, lib.wp_type_get_child(t, 0), f"{path}?")
        return _nonnull(lib.wp_value_new_some(inner), path)
    if k == RESULT:
        if isinstance(v, Ok):
            ct, mk, case = lib.wp_type_get_child(t, 0), lib.wp_value_new_ok, "ok"
        elif isinstance(v, Err):
            ct, mk, case = lib.wp_type_get_child(t, 1), lib.wp_value_new_err, "err"
        else:
            raise _bad(path, f"expected Ok(...) or Err(...) for {type_str(t)}, got {v!r}")
        if ct:
            p = to_c(v.value, ct, f"{path}.{case}")
        else:
            if v.value is not None:
                raise _bad(path, f"{case} of {type_str(t)} has no payload")
            p = None
        return _nonnull(mk(p), path)
    if k in (OWN, BORROW):
        if isinstance(v, Resource):
            return _nonnull(lib.wp_value_clone(v._v), path)
        ctx = _context()
        name = _resource_name(t)
        rt = ctx.resources.get(name) if ctx else None
        if rt is None:
            raise _bad(path, f"{type_str(t)}: expected a Resource the plugin made, or an object "
                             f"of a host resource type '{name}' (Engine.define_resource)")
        if not ctx.inst:
            raise _bad(path, "the instance is closed")
        return rt._new_handle(ctx.inst, v, path)
    raise _bad(path, f"values of type {type_str(t)} are not supported by the Python binding")


def _field(v, name, path):
    alt = name.replace("-", "_")
    if isinstance(v, Mapping):
        if name in v:
            return v[name]
        if alt in v:
            return v[alt]
        raise _bad(path, f"missing field {name!r}")
    if dataclasses.is_dataclass(v) or hasattr(v, alt):
        try:
            return getattr(v, alt)
        except AttributeError:
            raise _bad(path, f"missing field {name!r}") from None
    raise _bad(path, f"expected a dict for a record, got {type(v).__name__}")


def _bytes_of(p, n):
    """A list<u8> value's bytes: one copy of the buffer the value holds
    (item by item only for a list built some other way)."""
    m = ctypes.c_size_t(0)
    data = lib.wp_value_get_bytes(p, ctypes.byref(m))
    if data and m.value == n:
        return ctypes.string_at(data, n)
    return bytes(lib.wp_value_get_uint(lib.wp_value_get_item(p, i)) for i in range(n))


def from_c(p, t):
    """The Python value of wp_value `p` (borrowed) of WIT type `t`."""
    k = lib.wp_type_get_kind(t)
    if k in _INT_RANGES:
        return lib.wp_value_get_int(p) if k in _SIGNED else lib.wp_value_get_uint(p)
    if k == BOOL:
        return bool(lib.wp_value_get_bool(p))
    if k == F32:
        return lib.wp_value_get_f32(p)
    if k == F64:
        return lib.wp_value_get_f64(p)
    if k == CHAR:
        return chr(lib.wp_value_get_char(p))
    if k == STRING:
        n = ctypes.c_size_t()
        s = lib.wp_value_get_string(p, ctypes.byref(n))
        return ctypes.string_at(s, n.value).decode("utf-8") if n.value else ""
    if k == LIST:
        et = lib.wp_type_get_child(t, 0)
        n = lib.wp_value_get_count(p)
        if lib.wp_type_get_kind(et) == U8:
            return _bytes_of(p, n)
        return [from_c(lib.wp_value_get_item(p, i), et) for i in range(n)]
    if k == TUPLE:
        return tuple(from_c(lib.wp_value_get_item(p, i), lib.wp_type_get_child(t, i))
                     for i in range(lib.wp_value_get_count(p)))
    if k == RECORD:
        return {name: from_c(lib.wp_value_get_field(p, name.encode()), lib.wp_type_get_child(t, i))
                for i, name in enumerate(_names(t))}
    if k == VARIANT:
        case = lib.wp_value_get_case(p).decode()
        names = _names(t)
        pt = lib.wp_type_get_child(t, names.index(case))
        pl = lib.wp_value_get_payload(p)
        return Variant(case, from_c(pl, pt) if pt and pl else None)
    if k == ENUM:
        return lib.wp_value_get_case(p).decode()
    if k == FLAGS:
        return {lib.wp_value_get_name(p, i).decode() for i in range(lib.wp_value_get_count(p))}
    if k == OPTION:
        if lib.wp_value_get_case(p) == b"none":
            return None
        it = lib.wp_type_get_child(t, 0)
        inner = from_c(lib.wp_value_get_payload(p), it)
        return Some(inner) if lib.wp_type_get_kind(it) == OPTION else inner
    if k == RESULT:
        case = lib.wp_value_get_case(p)
        ok = case == b"ok"
        ct = lib.wp_type_get_child(t, 0 if ok else 1)
        pl = lib.wp_value_get_payload(p)
        val = from_c(pl, ct) if ct and pl else None
        return Ok(val) if ok else Err(val)
    if k in (OWN, BORROW):
        ctx = _context()
        name = _resource_name(t)
        rt = ctx.resources.get(name) if ctx else None
        if rt is not None:
            found, obj = rt._object_of(p, ctx.inst)
            if found:
                return obj
        return Resource(_nonnull(lib.wp_value_clone(p), "value"), name, k == OWN,
                        ctx.instance if ctx else None)
    raise BadInput(f"values of type {type_str(t)} are not supported by the Python binding")
