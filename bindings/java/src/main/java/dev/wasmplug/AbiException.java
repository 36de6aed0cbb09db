package dev.wasmplug;

/** The plugin broke the calling convention (pointer outside memory, bad UTF-8). Kind {@link ErrorKind#ABI}. */
public class AbiException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public AbiException(String message, String backtrace) {
    super(ErrorKind.ABI, message, backtrace);
  }

  AbiException(String message) {
    this(message, null);
  }
}
