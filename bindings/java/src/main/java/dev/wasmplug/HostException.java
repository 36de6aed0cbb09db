package dev.wasmplug;

/** A host function failed (returned an error or threw). Kind {@link ErrorKind#HOST}. */
public class HostException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public HostException(String message, String backtrace) {
    super(ErrorKind.HOST, message, backtrace);
  }

  HostException(String message) {
    this(message, null);
  }
}
