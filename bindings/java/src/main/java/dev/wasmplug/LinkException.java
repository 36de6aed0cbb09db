package dev.wasmplug;

/** An import is missing or has the wrong type. Kind {@link ErrorKind#LINK}. */
public class LinkException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public LinkException(String message, String backtrace) {
    super(ErrorKind.LINK, message, backtrace);
  }

  LinkException(String message) {
    this(message, null);
  }
}
