package dev.wasmplug;

import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A checked, compiled plugin: immutable and thread-safe. Make sandboxes from it with {@link
 * #instantiate()} or a {@link Pool}. Closing it is safe while its instances and pools live (they
 * hold their own reference).
 */
public final class Plugin implements AutoCloseable {
  private final NativeRef ref;
  final Engine.Core core;
  private final boolean component;
  private final String name;
  private final Map<String, Func> funcs = new ConcurrentHashMap<>();

  private Plugin(long ptr, Engine.Core core) {
    core.retain();
    this.core = core;
    this.ref = new NativeRef(this, ptr, Lib::wp_plugin_free, core::release);
    this.component = Lib.wp_plugin_is_component(ptr);
    this.name = Util.str(Lib.wp_plugin_get_name(ptr));
  }

  static Plugin load(Engine engine, byte[] path, String name, byte[] bytes, Manifest manifest) {
    long m = manifest == null ? 0 : manifest.ptr();
    long e = engine.ptr();
    long[] out = new long[1];
    long err = bytes != null
        ? Lib.wp_plugin_load_bytes(e, Util.cstr(name), bytes, bytes.length, m, out)
        : Lib.wp_plugin_load(e, path, m, out);
    Util.check(err);
    return new Plugin(out[0], engine.core);
  }

  long ptr() {
    return ref.get("plugin");
  }

  public String name() {
    return name;
  }

  /** The sha256 of the plugin's bytes, as 64 lower-case hex digits. */
  public String sha256() {
    return Util.str(Lib.wp_plugin_get_sha256(ptr()));
  }

  /** Whether this is a Component Model component (else a core module). */
  public boolean isComponent() {
    return component;
  }

  /** The names of the exported functions ("INTERFACE#FUNC" inside component interfaces). */
  public List<String> exports() {
    long p = ptr();
    List<String> out = new ArrayList<>();
    long n = Lib.wp_plugin_export_count(p);
    for (long i = 0; i < n; i++) {
      Pointer info = new Pointer(Lib.wp_plugin_get_export(p, i));
      if (info.getInt(16) != 0) continue; // not a function
      String module = Util.str(info.getLong(0));
      String fname = Util.str(info.getLong(8));
      out.add(module == null ? fname : module + "#" + fname);
    }
    return out;
  }

  /** A handle on the exported function `name`; {@link NotFoundException} lists the exports. */
  public Func func(String name) {
    Func f = funcs.get(name);
    if (f != null) return f;
    f = find(name);
    funcs.put(name, f);
    return f;
  }

  private Func find(String fname) {
    long p = ptr();
    int[] id = new int[1];
    Util.check(Lib.wp_plugin_find_func(p, Util.cstr(fname), id));
    boolean bytes = Lib.wp_plugin_is_bytes_func(p, id[0]);
    if (component) {
      return new Func(this, id[0], fname, null, null, false, bytes, Lib.wp_plugin_get_functype(p, id[0]));
    }
    long n = Lib.wp_plugin_export_count(p);
    for (long i = 0; i < n; i++) {
      Pointer info = new Pointer(Lib.wp_plugin_get_export(p, i));
      if (info.getInt(16) != 0 || !fname.equals(Util.str(info.getLong(8)))) continue;
      boolean numeric = info.getByte(56) != 0;
      ValType[] params = kinds(info.getLong(24), info.getLong(32));
      ValType[] results = kinds(info.getLong(40), info.getLong(48));
      return new Func(this, id[0], fname, params, results, numeric, bytes, 0);
    }
    throw new NotFoundException("export '" + fname + "' has no type information");
  }

  private static ValType[] kinds(long p, long n) {
    ValType[] out = new ValType[(int) n];
    for (int i = 0; i < n; i++) {
      int k = new Pointer(p).getInt(4L * i);
      if (k < 0 || k > 3) return null;
      out[i] = ValType.of(k);
    }
    return out;
  }

  /** Makes a sandbox: own memory, WASI view and limits. */
  public Instance instantiate() {
    long[] out = new long[1];
    Util.check(Lib.wp_instance_new(ptr(), out));
    return new Instance(this, out[0]);
  }

  /**
   * A pool of instances of this plugin: each serves at most `maxUses` takes (1: fresh per call; 0:
   * no limit) and at most `maxIdle` wait idle.
   */
  public Pool pool(int maxUses, int maxIdle) {
    long[] out = new long[1];
    Util.check(Lib.wp_pool_new(ptr(), maxUses, maxIdle, out));
    return new Pool(this, out[0]);
  }

  @Override
  public String toString() {
    return "Plugin(" + name + ")";
  }

  /** Drops this handle; instances and pools made from it go on working. Safe to call twice. */
  @Override
  public void close() {
    ref.close();
  }
}
