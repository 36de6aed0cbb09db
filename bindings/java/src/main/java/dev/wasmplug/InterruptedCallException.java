package dev.wasmplug;

/** {@link Instance#interrupt()} stopped the call. Kind {@link ErrorKind#INTERRUPTED}. */
public class InterruptedCallException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public InterruptedCallException(String message, String backtrace) {
    super(ErrorKind.INTERRUPTED, message, backtrace);
  }

  InterruptedCallException(String message) {
    this(message, null);
  }
}
