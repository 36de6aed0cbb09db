package dev.wasmplug;

/** Log levels of what plugins log (wasmplug.log, wasi:logging). */
public enum LogLevel {
  TRACE, DEBUG, INFO, WARN, ERROR;

  static LogLevel of(int c) {
    LogLevel[] v = values();
    return c >= 0 && c < v.length ? v[c] : ERROR;
  }
}
