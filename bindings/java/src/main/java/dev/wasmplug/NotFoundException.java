package dev.wasmplug;

/** No such export, file or function. Kind {@link ErrorKind#NOT_FOUND}. */
public class NotFoundException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public NotFoundException(String message, String backtrace) {
    super(ErrorKind.NOT_FOUND, message, backtrace);
  }

  NotFoundException(String message) {
    this(message, null);
  }
}
