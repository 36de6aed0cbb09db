package dev.wasmplug;

/**
 * Receives what plugins log. Called on the thread that runs the plugin, possibly from several
 * threads at once: make it thread-safe. An exception it throws is dropped.
 */
@FunctionalInterface
public interface LogHandler {
  void log(LogLevel level, String plugin, String message);
}
