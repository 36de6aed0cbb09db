"""ctypes declarations of the installed libwasmplug (the public C API only).

The library is looked up, first match wins:
  1. $WASMPLUG_LIB: the path of libwasmplug.so itself;
  2. $WASMPLUG_PREFIX/lib/libwasmplug.so (an installed tree);
  3. the system loader: ctypes.util.find_library("wasmplug"), then
     "libwasmplug.so" (LD_LIBRARY_PATH, ld.so.cache).
"""
import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, c_bool, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

c_uint8_p = POINTER(ctypes.c_uint8)


class WpValUnion(ctypes.Union):
    _fields_ = [("i32", c_int32), ("i64", c_int64), ("f32", c_float), ("f64", c_double)]


class WpVal(ctypes.Structure):
    _fields_ = [("kind", c_int), ("of", WpValUnion)]


assert ctypes.sizeof(WpVal) == 16


class WpExternInfo(ctypes.Structure):
    _fields_ = [("module", c_char_p), ("name", c_char_p), ("kind", c_int),
                ("params", POINTER(c_int)), ("nparams", c_size_t),
                ("results", POINTER(c_int)), ("nresults", c_size_t),
                ("numeric", c_bool), ("min_pages", c_uint64), ("max_pages", c_uint64),
                ("type", c_char_p), ("functype", c_void_p)]


# void (*)(void *object, void *user_data)
RESOURCE_DROP_FN = CFUNCTYPE(None, c_void_p, c_void_p)
LOG_FN = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_void_p, c_size_t)
# wp_error *(*)(wp_host_call *, const wp_val *, size_t, wp_val *, size_t, void *)
HOST_FN = CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, c_void_p)
# wp_error *(*)(wp_host_call *, const uint8_t *, size_t, void *)
HOST_BYTES_FN = CFUNCTYPE(c_void_p, c_void_p, c_void_p, c_size_t, c_void_p)
# wp_error *(*)(wp_host_call *, const wp_value *const *, size_t, wp_value **, void *)
COMPONENT_FN = CFUNCTYPE(c_void_p, c_void_p, POINTER(c_void_p), c_size_t, POINTER(c_void_p),
                         c_void_p)


def _candidates():
    lib = os.environ.get("WASMPLUG_LIB")
    if lib:
        yield lib
    prefix = os.environ.get("WASMPLUG_PREFIX")
    if prefix:
        for sub in ("lib", "lib64"):
            p = os.path.join(prefix, sub, "libwasmplug.so")
            if os.path.exists(p):
                yield p
    found = ctypes.util.find_library("wasmplug")
    if found:
        yield found
    yield "libwasmplug.so"


def _load():
    errors = []
    for cand in _candidates():
        try:
            # libwasmplug.so needs libwasmplug_wasmtime.so beside it; load
            # that first in case the tree was moved without its rpath.
            d = os.path.dirname(cand)
            wt = os.path.join(d, "libwasmplug_wasmtime.so") if d else None
            if wt and os.path.exists(wt):
                ctypes.CDLL(wt, mode=ctypes.RTLD_GLOBAL)
            return ctypes.CDLL(cand), cand
        except OSError as e:
            errors.append(f"{cand}: {e}")
    raise ImportError("wasmplug: libwasmplug.so not found; set WASMPLUG_LIB to its path, "
                      "WASMPLUG_PREFIX to the installed tree, or LD_LIBRARY_PATH. Tried:\n  "
                      + "\n  ".join(errors))


lib, LIB_PATH = _load()

_P = c_void_p
_PP = POINTER(c_void_p)

_DECLS = {
    # common, errors
    "wp_free": (None, [_P]),
    "wp_error_new": (_P, [c_int, c_char_p]),  # variadic: called with "%s", msg
    "wp_error_free": (None, [_P]),
    "wp_error_get_kind": (c_int, [_P]),
    "wp_error_get_message": (c_char_p, [_P]),
    "wp_error_get_backtrace": (c_char_p, [_P]),
    "wp_error_kind_name": (c_char_p, [c_int]),
    "wp_log_level_name": (c_char_p, [c_int]),
    "wp_parse_size": (c_bool, [c_char_p, POINTER(c_uint64)]),
    # engine
    "wp_engine_config_new": (_P, []),
    "wp_engine_config_free": (None, [_P]),
    "wp_engine_config_set_cache_dir": (None, [_P, c_char_p]),
    "wp_engine_config_set_pooling": (None, [_P, c_uint32]),
    "wp_engine_config_set_max_memory": (None, [_P, c_uint64]),
    "wp_engine_config_set_max_module_size": (None, [_P, c_uint64]),
    "wp_engine_config_set_max_functions": (None, [_P, c_uint32]),
    "wp_engine_config_set_pool_table_elements": (None, [_P, c_uint32]),
    "wp_engine_config_set_pool_instance_size": (None, [_P, c_uint64]),
    "wp_engine_config_set_instantiate_timeout_ms": (None, [_P, c_uint32]),
    "wp_engine_config_set_tick_us": (None, [_P, c_uint32]),
    "wp_engine_config_set_log": (None, [_P, LOG_FN, _P]),
    "wp_engine_config_set_isolation": (None, [_P, c_int]),
    "wp_engine_config_set_worker_path": (None, [_P, c_char_p]),
    "wp_engine_new": (_P, [_P, _PP]),
    "wp_engine_free": (None, [_P]),
    # host functions
    "wp_engine_define_func": (_P, [_P, c_char_p, c_char_p, POINTER(c_int), c_size_t,
                                   POINTER(c_int), c_size_t, HOST_FN, _P, _P]),
    "wp_engine_define_bytes": (_P, [_P, c_char_p, c_char_p, HOST_BYTES_FN, _P, _P]),
    "wp_engine_define_string": (_P, [_P, c_char_p, c_char_p, HOST_BYTES_FN, _P, _P]),
    "wp_engine_define_component_func": (_P, [_P, c_char_p, c_char_p, COMPONENT_FN, _P, _P]),
    "wp_host_call_set_output": (_P, [_P, c_void_p, c_size_t]),
    "wp_engine_define_resource": (_P, [_P, c_char_p, c_char_p, RESOURCE_DROP_FN, _P, _P, _PP]),
    "wp_value_new_resource": (_P, [_P, _P, _P]),
    "wp_value_get_resource": (_P, [_P, _P, _P, _PP]),
    "wp_instance_drop_resource": (_P, [_P, _P]),
    "wp_value_clone": (_P, [_P]),
    "wp_host_call_get_instance": (_P, [_P]),
    "wp_host_call_get_functype": (_P, [_P]),
    "wp_host_call_time_left_ms": (c_uint64, [_P]),
    "wp_host_call_interrupted": (c_bool, [_P]),
    # manifest
    "wp_manifest_new": (_P, []),
    "wp_manifest_parse": (_P, [c_char_p, c_size_t, c_char_p, _PP]),
    "wp_manifest_load": (_P, [c_char_p, _PP]),
    "wp_manifest_free": (None, [_P]),
    "wp_manifest_set_name": (_P, [_P, c_char_p]),
    "wp_manifest_set_max_memory": (None, [_P, c_uint64]),
    "wp_manifest_set_timeout_ms": (None, [_P, c_uint32]),
    "wp_manifest_set_fuel": (None, [_P, c_uint64]),
    "wp_manifest_set_config": (_P, [_P, c_char_p, c_char_p]),
    "wp_manifest_get_config": (c_char_p, [_P, c_char_p]),
    "wp_manifest_set_env": (_P, [_P, c_char_p, c_char_p]),
    "wp_manifest_add_arg": (_P, [_P, c_char_p]),
    "wp_manifest_to_json": (_P, [_P]),
    # plugin
    "wp_plugin_load": (_P, [_P, c_char_p, _P, _PP]),
    "wp_plugin_load_bytes": (_P, [_P, c_char_p, c_char_p, c_size_t, _P, _PP]),
    "wp_plugin_free": (None, [_P]),
    "wp_plugin_ref": (_P, [_P]),
    "wp_plugin_get_name": (c_char_p, [_P]),
    "wp_plugin_get_sha256": (c_char_p, [_P]),
    "wp_plugin_get_size": (c_size_t, [_P]),
    "wp_plugin_was_cached": (c_bool, [_P]),
    "wp_plugin_import_count": (c_size_t, [_P]),
    "wp_plugin_get_import": (POINTER(WpExternInfo), [_P, c_size_t]),
    "wp_plugin_export_count": (c_size_t, [_P]),
    "wp_plugin_get_export": (POINTER(WpExternInfo), [_P, c_size_t]),
    "wp_plugin_find_func": (_P, [_P, c_char_p, POINTER(c_uint32)]),
    "wp_plugin_is_bytes_func": (c_bool, [_P, c_uint32]),
    "wp_plugin_is_component": (c_bool, [_P]),
    "wp_plugin_get_functype": (_P, [_P, c_uint32]),
    # instance
    "wp_instance_new": (_P, [_P, _PP]),
    "wp_instance_free": (None, [_P]),
    "wp_instance_reset": (_P, [_P]),
    "wp_instance_get_plugin": (_P, [_P]),
    "wp_instance_interrupt": (None, [_P]),
    "wp_instance_call": (_P, [_P, c_char_p, _P, c_size_t, _P, c_size_t]),
    "wp_instance_call_func": (_P, [_P, c_uint32, _P, c_size_t, _P, c_size_t]),
    "wp_instance_call_bytes": (_P, [_P, c_char_p, c_char_p, c_size_t, _PP, POINTER(c_size_t)]),
    "wp_instance_call_func_bytes": (_P, [_P, c_uint32, c_char_p, c_size_t, _PP,
                                         POINTER(c_size_t)]),
    "wp_instance_run": (_P, [_P, POINTER(c_int)]),
    "wp_instance_get_stdout": (c_void_p, [_P, POINTER(c_size_t)]),
    "wp_instance_get_stderr": (c_void_p, [_P, POINTER(c_size_t)]),
    "wp_instance_get_fuel_used": (c_uint64, [_P]),
    "wp_instance_get_memory_size": (c_uint64, [_P]),
    # pool
    "wp_pool_new": (_P, [_P, c_uint32, c_uint32, _PP]),
    "wp_pool_free": (None, [_P]),
    "wp_pool_take": (_P, [_P, _PP]),
    "wp_pool_release": (None, [_P, _P]),
    "wp_pool_get_idle": (c_size_t, [_P]),
    # WIT types
    "wp_type_get_kind": (c_int, [_P]),
    "wp_type_get_count": (c_size_t, [_P]),
    "wp_type_get_child": (_P, [_P, c_size_t]),
    "wp_type_get_name": (c_char_p, [_P, c_size_t]),
    "wp_type_to_string": (c_char_p, [_P]),
    "wp_functype_param_count": (c_size_t, [_P]),
    "wp_functype_param_name": (c_char_p, [_P, c_size_t]),
    "wp_functype_param_type": (_P, [_P, c_size_t]),
    "wp_functype_result": (_P, [_P]),
    "wp_functype_to_string": (c_char_p, [_P]),
    # values
    "wp_value_new_bool": (_P, [c_bool]),
    "wp_value_new_s8": (_P, [ctypes.c_int8]),
    "wp_value_new_u8": (_P, [ctypes.c_uint8]),
    "wp_value_new_s16": (_P, [ctypes.c_int16]),
    "wp_value_new_u16": (_P, [ctypes.c_uint16]),
    "wp_value_new_s32": (_P, [c_int32]),
    "wp_value_new_u32": (_P, [c_uint32]),
    "wp_value_new_s64": (_P, [c_int64]),
    "wp_value_new_u64": (_P, [c_uint64]),
    "wp_value_new_f32": (_P, [c_float]),
    "wp_value_new_f64": (_P, [c_double]),
    "wp_value_new_char": (_P, [c_uint32]),
    "wp_value_new_string_n": (_P, [c_char_p, c_size_t]),
    "wp_value_new_bytes": (_P, [c_char_p, c_size_t]),
    "wp_value_new_list": (_P, [_PP, c_size_t]),
    "wp_value_new_tuple": (_P, [_PP, c_size_t]),
    "wp_value_new_record": (_P, [POINTER(c_char_p), _PP, c_size_t]),
    "wp_value_new_variant": (_P, [c_char_p, _P]),
    "wp_value_new_enum": (_P, [c_char_p]),
    "wp_value_new_some": (_P, [_P]),
    "wp_value_new_none": (_P, []),
    "wp_value_new_ok": (_P, [_P]),
    "wp_value_new_err": (_P, [_P]),
    "wp_value_new_flags": (_P, [POINTER(c_char_p), c_size_t]),
    "wp_value_free": (None, [_P]),
    "wp_value_get_kind": (c_int, [_P]),
    "wp_value_get_bool": (c_bool, [_P]),
    "wp_value_get_int": (c_int64, [_P]),
    "wp_value_get_uint": (c_uint64, [_P]),
    "wp_value_get_f32": (c_float, [_P]),
    "wp_value_get_f64": (c_double, [_P]),
    "wp_value_get_char": (c_uint32, [_P]),
    "wp_value_get_string": (c_void_p, [_P, POINTER(c_size_t)]),
    "wp_value_get_bytes": (c_void_p, [_P, POINTER(c_size_t)]),
    "wp_value_get_count": (c_size_t, [_P]),
    "wp_value_get_item": (_P, [_P, c_size_t]),
    "wp_value_get_name": (c_char_p, [_P, c_size_t]),
    "wp_value_get_field": (_P, [_P, c_char_p]),
    "wp_value_has_flag": (c_bool, [_P, c_char_p]),
    "wp_value_get_case": (c_char_p, [_P]),
    "wp_value_get_payload": (_P, [_P]),
    "wp_value_to_wave": (_P, [_P]),
    "wp_instance_invoke_func": (_P, [_P, c_uint32, _PP, c_size_t, _PP]),
}

for _name, (_res, _args) in _DECLS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

# wp_error_new is variadic: keep only the fixed arguments declared and pass
# the message through "%s" so that no '%' in it is read as a conversion.
lib.wp_error_new.argtypes = None


def error_new(kind, message):
    return lib.wp_error_new(c_int(kind), c_char_p(b"%s"), c_char_p(message.encode("utf-8", "replace")))
