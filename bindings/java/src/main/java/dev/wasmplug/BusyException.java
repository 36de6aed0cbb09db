package dev.wasmplug;

/** No free instance slot in the engine's pool: retry later. Kind {@link ErrorKind#BUSY}. */
public class BusyException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public BusyException(String message, String backtrace) {
    super(ErrorKind.BUSY, message, backtrace);
  }

  BusyException(String message) {
    this(message, null);
  }
}
