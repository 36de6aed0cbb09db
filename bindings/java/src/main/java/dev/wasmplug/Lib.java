package dev.wasmplug;

import com.sun.jna.Callback;
import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * The C API of libwasmplug, through JNA direct mapping ({@link Native#register}): every pointer is a
 * {@code long} (the address), every {@code size_t} a {@code long}, strings are NUL-terminated UTF-8
 * {@code byte[]} (see {@link Util#cstr}). Package-private: the public classes wrap it.
 *
 * <p>The library is found through {@code jna.library.path} (set it to {@code $WASMPLUG_PREFIX/lib}),
 * else the system's library path.
 */
final class Lib {
  private Lib() {}

  static final NativeLibrary LIBRARY;

  static {
    LIBRARY = NativeLibrary.getInstance("wasmplug");
    Native.register(Lib.class, LIBRARY);
  }

  /* errors */
  static native void wp_error_free(long err);
  static native int wp_error_get_kind(long err);
  static native long wp_error_get_message(long err);
  static native long wp_error_get_backtrace(long err);
  static native void wp_free(long ptr);

  /* engine */
  static native long wp_engine_config_new();
  static native void wp_engine_config_free(long cfg);
  static native void wp_engine_config_set_cache_dir(long cfg, byte[] dir);
  static native void wp_engine_config_set_pooling(long cfg, int maxInstances);
  static native void wp_engine_config_set_max_memory(long cfg, long bytes);
  static native void wp_engine_config_set_max_module_size(long cfg, long bytes);
  static native void wp_engine_config_set_max_functions(long cfg, int n);
  static native void wp_engine_config_set_instantiate_timeout_ms(long cfg, int ms);
  static native void wp_engine_config_set_tick_us(long cfg, int us);
  static native void wp_engine_config_set_log(long cfg, LogFn fn, long userData);
  static native void wp_engine_config_set_isolation(long cfg, int isolation);
  static native void wp_engine_config_set_worker_path(long cfg, byte[] path);
  static native long wp_engine_new(long cfg, long[] out);
  static native void wp_engine_free(long engine);

  /* manifest */
  static native long wp_manifest_new();
  static native long wp_manifest_parse(byte[] json, long len, byte[] baseDir, long[] out);
  static native long wp_manifest_load(byte[] path, long[] out);
  static native void wp_manifest_free(long m);
  static native long wp_manifest_set_name(long m, byte[] name);
  static native long wp_manifest_set_sha256(long m, byte[] hex);
  static native long wp_manifest_set_source(long m, byte[] path, byte[] hex);
  static native void wp_manifest_set_max_memory(long m, long bytes);
  static native void wp_manifest_set_max_module_size(long m, long bytes);
  static native void wp_manifest_set_max_functions(long m, int n);
  static native void wp_manifest_set_timeout_ms(long m, int ms);
  static native void wp_manifest_set_fuel(long m, long fuel);
  static native long wp_manifest_allow_dir(long m, byte[] host, byte[] guest, boolean writable);
  static native long wp_manifest_set_env(long m, byte[] key, byte[] value);
  static native long wp_manifest_add_arg(long m, byte[] arg);
  static native long wp_manifest_set_stdin(long m, byte[] data, long len);
  static native void wp_manifest_set_stdout(long m, int mode, Pointer fn, long userData);
  static native void wp_manifest_set_stderr(long m, int mode, Pointer fn, long userData);
  static native long wp_manifest_set_config(long m, byte[] key, byte[] value);
  static native long wp_manifest_get_config(long m, byte[] key);
  static native long wp_manifest_set_capability(long m, byte[] name, byte[] json);
  static native void wp_manifest_set_trap_missing_imports(long m, boolean trap);
  static native void wp_manifest_set_isolation(long m, int isolation);
  static native long wp_manifest_to_json(long m);

  /* plugin */
  static native long wp_plugin_load(long engine, byte[] path, long manifest, long[] out);
  static native long wp_plugin_load_bytes(
      long engine, byte[] name, byte[] bytes, long len, long manifest, long[] out);
  static native void wp_plugin_free(long plugin);
  static native long wp_plugin_get_name(long plugin);
  static native long wp_plugin_get_sha256(long plugin);
  static native boolean wp_plugin_is_component(long plugin);
  static native long wp_plugin_import_count(long plugin);
  static native long wp_plugin_get_import(long plugin, long i);
  static native long wp_plugin_export_count(long plugin);
  static native long wp_plugin_get_export(long plugin, long i);
  static native long wp_plugin_find_func(long plugin, byte[] name, int[] out);
  static native boolean wp_plugin_is_bytes_func(long plugin, int func);
  static native long wp_plugin_get_functype(long plugin, int func);

  /* instance */
  static native long wp_instance_new(long plugin, long[] out);
  static native void wp_instance_free(long inst);
  static native long wp_instance_reset(long inst);
  static native long wp_instance_get_plugin(long inst);
  static native void wp_instance_interrupt(long inst);
  static native long wp_instance_call_func(
      long inst, int func, long args, long nargs, long results, long nresults);
  static native long wp_instance_call_func_bytes(
      long inst, int func, byte[] input, long inputLen, long outPtr, long outLen);
  static native long wp_instance_call_string(long inst, byte[] name, byte[] input, long outPtr);
  static native long wp_instance_run(long inst, int[] exitCode);
  static native long wp_instance_get_stdout(long inst, long[] len);
  static native long wp_instance_get_stderr(long inst, long[] len);
  static native long wp_instance_get_fuel_used(long inst);
  static native long wp_instance_get_memory_size(long inst);
  static native long wp_instance_invoke_func(
      long inst, int func, long[] args, long nargs, long[] result);

  /* pool */
  static native long wp_pool_new(long plugin, int maxUses, int maxIdle, long[] out);
  static native void wp_pool_free(long pool);
  static native long wp_pool_take(long pool, long[] out);
  static native void wp_pool_release(long pool, long inst);
  static native long wp_pool_get_idle(long pool);

  /* host functions */
  static native long wp_engine_define_func(long engine, byte[] module, byte[] name, int[] params,
      long nparams, int[] results, long nresults, HostFn fn, long userData, FreeFn free);
  static native long wp_engine_define_bytes(long engine, byte[] module, byte[] name, BytesFn fn,
      long userData, FreeFn free);
  static native long wp_engine_define_string(long engine, byte[] module, byte[] name, BytesFn fn,
      long userData, FreeFn free);
  static native long wp_engine_define_component_func(long engine, byte[] iface, byte[] name,
      ComponentFn fn, long userData, FreeFn free);
  static native long wp_host_call_set_output(long call, byte[] data, long len);
  static native long wp_host_call_get_instance(long call);
  static native long wp_host_call_get_functype(long call);
  static native long wp_host_call_time_left_ms(long call);
  static native boolean wp_host_call_interrupted(long call);

  /* values */
  static native long wp_value_new_bool(boolean v);
  static native long wp_value_new_s8(byte v);
  static native long wp_value_new_u8(byte v);
  static native long wp_value_new_s16(short v);
  static native long wp_value_new_u16(short v);
  static native long wp_value_new_s32(int v);
  static native long wp_value_new_u32(int v);
  static native long wp_value_new_s64(long v);
  static native long wp_value_new_u64(long v);
  static native long wp_value_new_f32(float v);
  static native long wp_value_new_f64(double v);
  static native long wp_value_new_char(int v);
  static native long wp_value_new_string_n(byte[] s, long len);
  static native long wp_value_new_bytes(byte[] data, long len);
  static native long wp_value_new_list(long[] items, long n);
  static native long wp_value_new_tuple(long[] items, long n);
  static native long wp_value_new_record(long names, long[] fields, long n);
  static native long wp_value_new_variant(byte[] caseName, long payload);
  static native long wp_value_new_enum(byte[] caseName);
  static native long wp_value_new_some(long v);
  static native long wp_value_new_none();
  static native long wp_value_new_ok(long v);
  static native long wp_value_new_err(long v);
  static native long wp_value_new_flags(long names, long n);
  static native void wp_value_free(long v);
  static native int wp_value_get_kind(long v);
  static native boolean wp_value_get_bool(long v);
  static native long wp_value_get_int(long v);
  static native long wp_value_get_uint(long v);
  static native float wp_value_get_f32(long v);
  static native double wp_value_get_f64(long v);
  static native int wp_value_get_char(long v);
  static native long wp_value_get_string(long v, long[] len);
  static native long wp_value_get_bytes(long v, long[] len);
  static native long wp_value_get_count(long v);
  static native long wp_value_get_item(long v, long i);
  static native long wp_value_get_name(long v, long i);
  static native long wp_value_get_case(long v);
  static native long wp_value_get_payload(long v);
  static native long wp_value_to_wave(long v);

  /* types */
  static native int wp_type_get_kind(long type);
  static native long wp_type_get_count(long type);
  static native long wp_type_get_child(long type, long i);
  static native long wp_type_get_name(long type, long i);
  static native long wp_type_to_string(long type);
  static native long wp_functype_param_count(long ft);
  static native long wp_functype_param_type(long ft, long i);
  static native long wp_functype_result(long ft);
  static native long wp_functype_to_string(long ft);

  /* Callback types (C function pointers). Each is implemented once, statically, in Callbacks. */
  interface HostFn extends Callback {
    long invoke(long call, long args, long nargs, long results, long nresults, long userData);
  }

  interface BytesFn extends Callback {
    long invoke(long call, long input, long len, long userData);
  }

  interface ComponentFn extends Callback {
    long invoke(long call, long args, long nargs, long result, long userData);
  }

  interface LogFn extends Callback {
    void invoke(long userData, int level, long plugin, long msg, long len);
  }

  interface FreeFn extends Callback {
    void invoke(long userData);
  }

  /** The variadic wp_error_new, through interface mapping (direct mapping has no varargs). */
  interface Variadic extends Library {
    Pointer wp_error_new(int kind, String fmt, Object... args);
  }

  static final Variadic VARIADIC = Native.load("wasmplug", Variadic.class);

  /** Threads that C starts and that call back into Java stay attached, as daemons. */
  static final CallbackThreadInitializer THREADS =
      new CallbackThreadInitializer(true, false, "wasmplug-native");
}
