package dev.wasmplug;

/** A WIT variant case: its name and payload (null for a case without one). */
public record Variant(String name, Object value) {
  public Variant {
    java.util.Objects.requireNonNull(name, "name");
  }

  /** A case without a payload. */
  public static Variant of(String name) {
    return new Variant(name, null);
  }

  public static Variant of(String name, Object value) {
    return new Variant(name, value);
  }
}
