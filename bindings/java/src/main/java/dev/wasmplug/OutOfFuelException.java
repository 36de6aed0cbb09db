package dev.wasmplug;

/** The call used up its fuel. Kind {@link ErrorKind#FUEL}. */
public class OutOfFuelException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public OutOfFuelException(String message, String backtrace) {
    super(ErrorKind.FUEL, message, backtrace);
  }

  OutOfFuelException(String message) {
    this(message, null);
  }
}
