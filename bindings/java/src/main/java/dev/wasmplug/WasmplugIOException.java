package dev.wasmplug;

/** Reading or writing a file failed. Kind {@link ErrorKind#IO}. */
public class WasmplugIOException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public WasmplugIOException(String message, String backtrace) {
    super(ErrorKind.IO, message, backtrace);
  }

  WasmplugIOException(String message) {
    this(message, null);
  }
}
