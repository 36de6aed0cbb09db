package dev.wasmplug;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * What a plugin may do and how far it may go: grants and limits. Everything is denied by default.
 * A manifest is copied when a plugin loads, so one may serve several loads; it is not thread-safe
 * (set it up on one thread). Setters return this for chaining.
 *
 * <pre>{@code
 * Manifest m = new Manifest().timeout(Duration.ofSeconds(1)).maxMemory(64 << 20).fuel(1_000_000);
 * Manifest j = Manifest.parse("{\"limits\": {\"timeout_ms\": 50}}");
 * }</pre>
 */
public final class Manifest implements AutoCloseable {
  private final NativeRef ref;

  /** Where a plugin's stdout or stderr goes. */
  public enum Stdio {
    DISCARD, INHERIT, CAPTURE
  }

  /** An empty manifest: everything denied, engine limits. */
  public Manifest() {
    this(Lib.wp_manifest_new());
  }

  private Manifest(long ptr) {
    if (ptr == 0) throw new NoMemoryException("wp_manifest_new failed");
    this.ref = new NativeRef(this, ptr, Lib::wp_manifest_free, null);
  }

  /** Parses a JSON manifest (the form in wasmplug/manifest.h). */
  public static Manifest parse(String json) {
    return parse(json, null);
  }

  /** Parses a JSON manifest; `baseDir` (may be null) resolves relative paths. */
  public static Manifest parse(String json, Path baseDir) {
    byte[] b = Util.utf8(Objects.requireNonNull(json, "json"));
    long[] out = new long[1];
    Util.check(Lib.wp_manifest_parse(b, b.length,
        baseDir == null ? null : Util.cstr(baseDir.toString()), out));
    return new Manifest(out[0]);
  }

  /** Reads and parses a JSON manifest file. */
  public static Manifest load(Path path) {
    long[] out = new long[1];
    Util.check(Lib.wp_manifest_load(Util.cstr(path.toString()), out));
    return new Manifest(out[0]);
  }

  long ptr() {
    return ref.get("manifest");
  }

  /** The plugin's name in messages (default: the file's base name). */
  public Manifest name(String name) {
    Util.check(Lib.wp_manifest_set_name(ptr(), Util.cstr(name)));
    return this;
  }

  /** The plugin's source file and, unless null, the sha256 its bytes must have. */
  public Manifest source(Path path, String sha256) {
    Util.check(Lib.wp_manifest_set_source(ptr(), Util.cstr(path.toString()), Util.cstr(sha256)));
    return this;
  }

  /** Pins the sha256 (64 hex digits) of whatever bytes are loaded with this manifest. */
  public Manifest sha256(String hex) {
    Util.check(Lib.wp_manifest_set_sha256(ptr(), Util.cstr(hex)));
    return this;
  }

  /** Most memory for all of the plugin's memories and tables, in bytes (0: the engine's). */
  public Manifest maxMemory(long bytes) {
    if (bytes < 0) throw new BadInputException("maxMemory must not be negative");
    Lib.wp_manifest_set_max_memory(ptr(), bytes);
    return this;
  }

  public Manifest maxModuleSize(long bytes) {
    Lib.wp_manifest_set_max_module_size(ptr(), bytes);
    return this;
  }

  public Manifest maxFunctions(int n) {
    Lib.wp_manifest_set_max_functions(ptr(), n);
    return this;
  }

  /** Wall-clock limit per call (and on making an instance); zero: none. */
  public Manifest timeout(Duration d) {
    long ms = d.toMillis();
    if (ms < 0 || ms > 0xffffffffL) throw new BadInputException("timeout out of range: " + d);
    if (ms == 0 && !d.isZero()) ms = 1;
    Lib.wp_manifest_set_timeout_ms(ptr(), (int) ms);
    return this;
  }

  /** Fuel per call (about one unit per wasm instruction); 0: no metering. */
  public Manifest fuel(long fuel) {
    if (fuel < 0) throw new BadInputException("fuel must not be negative");
    Lib.wp_manifest_set_fuel(ptr(), fuel);
    return this;
  }

  /** Grants the directory `host` to the plugin as `guest`. */
  public Manifest allowDir(Path host, String guest, boolean writable) {
    Util.check(Lib.wp_manifest_allow_dir(ptr(), Util.cstr(host.toString()), Util.cstr(guest), writable));
    return this;
  }

  public Manifest env(String key, String value) {
    Util.check(Lib.wp_manifest_set_env(ptr(), Util.cstr(key), Util.cstr(value)));
    return this;
  }

  /** Appends an argument to the plugin's argv. */
  public Manifest arg(String arg) {
    Util.check(Lib.wp_manifest_add_arg(ptr(), Util.cstr(arg)));
    return this;
  }

  public Manifest stdin(byte[] data) {
    Util.check(Lib.wp_manifest_set_stdin(ptr(), data, data.length));
    return this;
  }

  public Manifest stdout(Stdio mode) {
    Lib.wp_manifest_set_stdout(ptr(), mode.ordinal(), null, 0);
    return this;
  }

  public Manifest stderr(Stdio mode) {
    Lib.wp_manifest_set_stderr(ptr(), mode.ordinal(), null, 0);
    return this;
  }

  /** A config value the plugin reads with wasmplug.config_get / wasi:config. */
  public Manifest config(String key, String value) {
    Util.check(Lib.wp_manifest_set_config(ptr(), Util.cstr(key), Util.cstr(value)));
    return this;
  }

  /** The config value of `key`, or null. */
  public String config(String key) {
    return Util.str(Lib.wp_manifest_get_config(ptr(), Util.cstr(key)));
  }

  /** Sets capability `name`'s section (JSON text), or removes it (null). */
  public Manifest capability(String name, String json) {
    Util.check(Lib.wp_manifest_set_capability(ptr(), Util.cstr(name), Util.cstr(json)));
    return this;
  }

  /** Components: a missing host import traps when called instead of failing the load. */
  public Manifest trapMissingImports(boolean trap) {
    Lib.wp_manifest_set_trap_missing_imports(ptr(), trap);
    return this;
  }

  public Manifest isolation(Isolation isolation) {
    Lib.wp_manifest_set_isolation(ptr(), isolation.code);
    return this;
  }

  /** The manifest as JSON. */
  public String toJson() {
    long p = Lib.wp_manifest_to_json(ptr());
    if (p == 0) throw new NoMemoryException("wp_manifest_to_json failed");
    try {
      return Util.str(p);
    } finally {
      Lib.wp_free(p);
    }
  }

  @Override
  public String toString() {
    return ref.isClosed() ? "Manifest(closed)" : "Manifest" + toJson();
  }

  /** Frees the manifest; plugins loaded with it keep their own copy. Safe to call twice. */
  @Override
  public void close() {
    ref.close();
  }
}
