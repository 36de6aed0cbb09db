package dev.wasmplug;

/** What kind of failure a {@link WasmplugException} reports: the C library's {@code WP_ERR_*}. */
public enum ErrorKind {
  /** The bytes are not a valid plugin, or it is over a load cap. */
  LOAD(1, "load"),
  /** An import is missing or has the wrong type. */
  LINK(2, "link"),
  /** The plugin trapped (unreachable, divide by zero, stack overflow...). */
  TRAP(3, "trap"),
  /** The call ran past its time limit. */
  TIMEOUT(4, "timeout"),
  /** {@link Instance#interrupt()} stopped the call. */
  INTERRUPTED(5, "interrupted"),
  /** The call used up its fuel. */
  FUEL(6, "fuel"),
  /** The plugin failed after its memory reached the limit. */
  MEMORY_LIMIT(7, "memory limit"),
  /** The caller passed something wrong: arguments, manifest, options. */
  BAD_INPUT(8, "bad input"),
  /** The plugin broke the calling convention. */
  ABI(9, "abi"),
  /** A host function reported a failure (or threw). */
  HOST(10, "host"),
  /** The plugin reported a failure through wasmplug.error. */
  PLUGIN(11, "plugin"),
  /** Reading or writing a file failed. */
  IO(12, "io"),
  /** No such export, file or function. */
  NOT_FOUND(13, "not found"),
  /** No free instance slot in the engine's pool: retry later. */
  BUSY(14, "busy"),
  /** The host ran out of memory. */
  NO_MEMORY(15, "no memory");

  private final int code;
  private final String label;

  ErrorKind(int code, String label) {
    this.code = code;
    this.label = label;
  }

  /** The C value ({@code WP_ERR_*}). */
  public int code() {
    return code;
  }

  /** A short lower-case name, as {@code wp_error_kind_name}. */
  public String label() {
    return label;
  }

  static ErrorKind fromCode(int code) {
    for (ErrorKind k : values()) if (k.code == code) return k;
    return HOST;
  }
}
