package dev.wasmplug;

/** The plugin could not be loaded (corrupt, wrong format, over a load cap). Kind {@link ErrorKind#LOAD}. */
public class LoadException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public LoadException(String message, String backtrace) {
    super(ErrorKind.LOAD, message, backtrace);
  }

  LoadException(String message) {
    this(message, null);
  }
}
