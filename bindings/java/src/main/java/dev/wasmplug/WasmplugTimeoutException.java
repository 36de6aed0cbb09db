package dev.wasmplug;

/** The call ran past its time limit. Kind {@link ErrorKind#TIMEOUT}. */
public class WasmplugTimeoutException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public WasmplugTimeoutException(String message, String backtrace) {
    super(ErrorKind.TIMEOUT, message, backtrace);
  }

  WasmplugTimeoutException(String message) {
    this(message, null);
  }
}
