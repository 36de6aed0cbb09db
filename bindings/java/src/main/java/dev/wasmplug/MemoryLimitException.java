package dev.wasmplug;

/** The plugin failed after its memory reached its limit. Kind {@link ErrorKind#MEMORY_LIMIT}. */
public class MemoryLimitException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public MemoryLimitException(String message, String backtrace) {
    super(ErrorKind.MEMORY_LIMIT, message, backtrace);
  }

  MemoryLimitException(String message) {
    this(message, null);
  }
}
