package dev.wasmplug;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the test plugins are: $WP_FIXTURES (tests/fixtures) and $WP_PLUGINS (build/plugins). */
final class Env {
  private Env() {}

  static Path dir(String var) {
    String v = System.getenv(var);
    if (v == null || v.isEmpty()) throw new IllegalStateException("$" + var + " is not set (run bindings/java/test.sh)");
    Path p = Path.of(v);
    if (!Files.isDirectory(p)) throw new IllegalStateException("$" + var + "=" + v + " is not a directory");
    return p;
  }

  static Path fixture(String name) {
    return existing(dir("WP_FIXTURES").resolve(name));
  }

  static Path plugin(String name) {
    return existing(dir("WP_PLUGINS").resolve(name));
  }

  private static Path existing(Path p) {
    if (!Files.isRegularFile(p)) throw new IllegalStateException(p + " is missing (build the plugins first)");
    return p;
  }

  /** One engine for a test class; no compile cache in a shared place. */
  static Engine engine() {
    return Engine.create();
  }
}
