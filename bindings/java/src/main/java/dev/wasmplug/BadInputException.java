package dev.wasmplug;

/** The caller passed something wrong: arguments, manifest, options, values. Kind {@link ErrorKind#BAD_INPUT}. */
public class BadInputException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public BadInputException(String message, String backtrace) {
    super(ErrorKind.BAD_INPUT, message, backtrace);
  }

  BadInputException(String message) {
    this(message, null);
  }
}
