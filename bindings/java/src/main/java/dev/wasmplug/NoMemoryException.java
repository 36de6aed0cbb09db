package dev.wasmplug;

/** The host ran out of memory (not the plugin's limit). Kind {@link ErrorKind#NO_MEMORY}. */
public class NoMemoryException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public NoMemoryException(String message, String backtrace) {
    super(ErrorKind.NO_MEMORY, message, backtrace);
  }

  NoMemoryException(String message) {
    this(message, null);
  }
}
