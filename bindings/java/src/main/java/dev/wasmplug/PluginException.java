package dev.wasmplug;

/** The plugin reported a failure through wasmplug.error. Kind {@link ErrorKind#PLUGIN}. */
public class PluginException extends WasmplugException {
  private static final long serialVersionUID = 1L;

  public PluginException(String message, String backtrace) {
    super(ErrorKind.PLUGIN, message, backtrace);
  }

  PluginException(String message) {
    this(message, null);
  }
}
