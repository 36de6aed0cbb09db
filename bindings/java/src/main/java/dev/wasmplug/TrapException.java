package dev.wasmplug;

/** The plugin trapped (unreachable, divide by zero, stack overflow, a crashed worker). Kind {@link ErrorKind#TRAP}. */
public class TrapException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public TrapException(String message, String backtrace) {
    super(ErrorKind.TRAP, message, backtrace);
  }

  TrapException(String message) {
    this(message, null);
  }
}
