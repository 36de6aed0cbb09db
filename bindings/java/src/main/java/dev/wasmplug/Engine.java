package dev.wasmplug;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The wasmplug engine: Wasmtime, the compile cache, the timer thread and the host functions.
 * Thread-safe; make one per process and share it. Close it when done: plugins, instances and pools
 * made from it stay usable until they are closed themselves, in any order.
 *
 * <pre>{@code
 * try (Engine engine = Engine.builder().logger((lvl, plugin, msg) -> System.err.println(msg)).build();
 *      Plugin plugin = engine.load(Path.of("hello-c.wasm"));
 *      Instance inst = plugin.instantiate()) {
 *   System.out.println(inst.callString("greet", "world"));
 * }
 * }</pre>
 */
public final class Engine implements AutoCloseable {
  /** Keeps the log handler registered while C may still call it: the engine and its children. */
  static final class Core {
    private final AtomicInteger refs = new AtomicInteger(1);
    private final long logId;

    Core(long logId) {
      this.logId = logId;
    }

    void retain() {
      refs.incrementAndGet();
    }

    void release() {
      if (refs.decrementAndGet() == 0 && logId != 0) Callbacks.unregister(logId);
    }
  }

  private final NativeRef ref;
  final Core core;

  private Engine(long ptr, Core core) {
    this.core = core;
    this.ref = new NativeRef(this, ptr, Lib::wp_engine_free, core::release);
  }

  /** An engine with the defaults (no log handler). */
  public static Engine create() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  long ptr() {
    return ref.get("engine");
  }

  /**
   * How the hot calls (numeric and bytes calls) reach C: "java.lang.foreign" on a JDK that has it
   * (22+), else "JNA direct mapping" and why.
   */
  public static String callPath() {
    if (Fast.OFF_REASON != null) return "JNA direct mapping (" + Fast.OFF_REASON + ")";
    return Runtime.version().feature() >= 22 ? "java.lang.foreign" : "jdk.incubator.foreign";
  }

  /** Loads, checks and compiles a plugin file (.wasm, or .wat text) with nothing granted. */
  public Plugin load(Path path) {
    return load(path, null);
  }

  /** Loads a plugin file under a manifest (null: deny everything, engine limits). */
  public Plugin load(Path path, Manifest manifest) {
    Objects.requireNonNull(path, "path");
    return Plugin.load(this, Util.cstr(path.toString()), null, null, manifest);
  }

  /** Loads the source named by the manifest ({@link Manifest#source}). */
  public Plugin load(Manifest manifest) {
    Objects.requireNonNull(manifest, "manifest");
    return Plugin.load(this, null, null, null, manifest);
  }

  /** Loads a plugin from its bytes (binary or text); `name` names it in messages. */
  public Plugin load(String name, byte[] bytes) {
    return load(name, bytes, null);
  }

  public Plugin load(String name, byte[] bytes, Manifest manifest) {
    Objects.requireNonNull(bytes, "bytes");
    return Plugin.load(this, null, name == null ? "plugin" : name, bytes, manifest);
  }

  /**
   * Offers a numeric host function as import (module, name) with the given signature. Define host
   * functions before loading the plugins that import them.
   */
  public Engine defineFunc(String module, String name, ValType[] params, ValType[] results,
      HostFunctions.Numeric fn) {
    Objects.requireNonNull(fn, "fn");
    int[] p = new int[params.length];
    for (int i = 0; i < p.length; i++) p[i] = params[i].ordinal();
    int[] r = new int[results.length];
    for (int i = 0; i < r.length; i++) r[i] = results[i].ordinal();
    long id = Callbacks.register(
        new Callbacks.NumericEntry(fn, params.clone(), results.clone()));
    define(id, Lib.wp_engine_define_func(ptr(), Util.cstr(module), Util.cstr(name), p, p.length,
        r, r.length, Callbacks.HOST_FN, id, Callbacks.FREE_FN));
    return this;
  }

  /** Offers a bytes-to-bytes host function (the guest ABI is in wasmplug/host.h). */
  public Engine defineBytes(String module, String name, HostFunctions.Bytes fn) {
    Objects.requireNonNull(fn, "fn");
    long id = Callbacks.register(new Callbacks.BytesEntry(fn, null));
    define(id, Lib.wp_engine_define_bytes(ptr(), Util.cstr(module), Util.cstr(name),
        Callbacks.BYTES_FN, id, Callbacks.FREE_FN));
    return this;
  }

  /** Offers a string-to-string host function (input and output are checked to be UTF-8). */
  public Engine defineString(String module, String name, HostFunctions.Text fn) {
    Objects.requireNonNull(fn, "fn");
    long id = Callbacks.register(new Callbacks.BytesEntry(null, fn));
    define(id, Lib.wp_engine_define_string(ptr(), Util.cstr(module), Util.cstr(name),
        Callbacks.BYTES_FN, id, Callbacks.FREE_FN));
    return this;
  }

  /**
   * Offers a function to components importing `name` from interface `iface` (null: the world's top
   * level). Arguments and result are Java values as described in {@link Values}.
   */
  public Engine defineComponentFunc(String iface, String name, HostFunctions.Component fn) {
    Objects.requireNonNull(fn, "fn");
    long id = Callbacks.register(new Callbacks.ComponentEntry(fn, iface, name));
    define(id, Lib.wp_engine_define_component_func(ptr(), Util.cstr(iface), Util.cstr(name),
        Callbacks.COMPONENT_FN, id, Callbacks.FREE_FN));
    return this;
  }

  private static void define(long id, long err) {
    if (err != 0) {
      // C did not take the user data: nothing will call FREE_FN for it.
      Callbacks.unregister(id);
      throw Util.take(err);
    }
  }

  /** Drops this handle; safe to call twice. */
  @Override
  public void close() {
    ref.close();
  }

  /** Engine settings; {@link #build()} makes the engine. */
  public static final class Builder {
    private Path cacheDir;
    private boolean noCache;
    private Integer pooling;
    private Long maxMemory, maxModuleSize;
    private Integer maxFunctions, instantiateTimeoutMs, tickMicros;
    private LogHandler logger;
    private Isolation isolation;
    private Path workerPath;

    private Builder() {}

    /** Where compiled plugins are cached (default ~/.cache/wasmplug/compiled). */
    public Builder cacheDir(Path dir) {
      this.cacheDir = dir;
      this.noCache = false;
      return this;
    }

    /** Turns the compile cache off. */
    public Builder noCache() {
      this.noCache = true;
      return this;
    }

    /** Pooling allocator slots (default 256); 0 turns pooling off. */
    public Builder pooling(int maxInstances) {
      this.pooling = maxInstances;
      return this;
    }

    /** The most memory any instance may have, in bytes (default 1 GiB). */
    public Builder maxMemory(long bytes) {
      this.maxMemory = bytes;
      return this;
    }

    public Builder maxModuleSize(long bytes) {
      this.maxModuleSize = bytes;
      return this;
    }

    public Builder maxFunctions(int n) {
      this.maxFunctions = n;
      return this;
    }

    /** How long making an instance may take when the manifest sets no timeout (default 10 s). */
    public Builder instantiateTimeout(Duration d) {
      this.instantiateTimeoutMs = (int) Math.min(Integer.MAX_VALUE, d.toMillis());
      return this;
    }

    /** The timer thread's tick (default 1000 us): timeouts take effect within about one tick. */
    public Builder tickMicros(int us) {
      this.tickMicros = us;
      return this;
    }

    /** Where plugin logs go (default nowhere). Called from the threads that run plugins. */
    public Builder logger(LogHandler handler) {
      this.logger = handler;
      return this;
    }

    /** Where the instances of plugins whose manifest does not say run (default in-process). */
    public Builder isolation(Isolation isolation) {
      this.isolation = isolation;
      return this;
    }

    /** The worker program for isolated instances (default $WASMPLUG_WORKER, else the installed one). */
    public Builder workerPath(Path path) {
      this.workerPath = path;
      return this;
    }

    public Engine build() {
      long cfg = Lib.wp_engine_config_new();
      if (cfg == 0) throw new NoMemoryException("wp_engine_config_new failed");
      long logId = 0;
      try {
        if (noCache) Lib.wp_engine_config_set_cache_dir(cfg, null);
        else if (cacheDir != null) Lib.wp_engine_config_set_cache_dir(cfg, Util.cstr(cacheDir.toString()));
        if (pooling != null) Lib.wp_engine_config_set_pooling(cfg, pooling);
        if (maxMemory != null) Lib.wp_engine_config_set_max_memory(cfg, maxMemory);
        if (maxModuleSize != null) Lib.wp_engine_config_set_max_module_size(cfg, maxModuleSize);
        if (maxFunctions != null) Lib.wp_engine_config_set_max_functions(cfg, maxFunctions);
        if (instantiateTimeoutMs != null) {
          Lib.wp_engine_config_set_instantiate_timeout_ms(cfg, instantiateTimeoutMs);
        }
        if (tickMicros != null) Lib.wp_engine_config_set_tick_us(cfg, tickMicros);
        if (isolation != null) Lib.wp_engine_config_set_isolation(cfg, isolation.code);
        if (workerPath != null) {
          Lib.wp_engine_config_set_worker_path(cfg, Util.cstr(workerPath.toString()));
        }
        if (logger != null) {
          logId = Callbacks.register(logger);
          Lib.wp_engine_config_set_log(cfg, Callbacks.LOG_FN, logId);
        }
        long[] out = new long[1];
        long err = Lib.wp_engine_new(cfg, out);
        if (err != 0) {
          if (logId != 0) Callbacks.unregister(logId);
          throw Util.take(err);
        }
        return new Engine(out[0], new Core(logId));
      } finally {
        Lib.wp_engine_config_free(cfg);
      }
    }
  }
}
