package dev.wasmplug;

/**
 * A failure reported by wasmplug: its {@link #kind()}, the library's message and, for traps, the
 * wasm backtrace. Each kind has its own subclass ({@link TrapException}, {@link
 * WasmplugTimeoutException}, {@link OutOfFuelException}, {@link MemoryLimitException}...), so
 * callers catch what they handle.
 */
public class WasmplugException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final ErrorKind kind;
  private final String backtrace;

  protected WasmplugException(ErrorKind kind, String message, String backtrace) {
    super(message);
    this.kind = kind;
    this.backtrace = backtrace;
  }

  /** What kind of failure this is. */
  public ErrorKind kind() {
    return kind;
  }

  /** The wasm backtrace, innermost frame first, one per line; null when there is none. */
  public String backtrace() {
    return backtrace;
  }

  /** The exception class for `kind`. */
  public static WasmplugException of(ErrorKind kind, String message, String backtrace) {
    switch (kind) {
      case LOAD: return new LoadException(message, backtrace);
      case LINK: return new LinkException(message, backtrace);
      case TRAP: return new TrapException(message, backtrace);
      case TIMEOUT: return new WasmplugTimeoutException(message, backtrace);
      case INTERRUPTED: return new InterruptedCallException(message, backtrace);
      case FUEL: return new OutOfFuelException(message, backtrace);
      case MEMORY_LIMIT: return new MemoryLimitException(message, backtrace);
      case BAD_INPUT: return new BadInputException(message, backtrace);
      case ABI: return new AbiException(message, backtrace);
      case HOST: return new HostException(message, backtrace);
      case PLUGIN: return new PluginException(message, backtrace);
      case IO: return new WasmplugIOException(message, backtrace);
      case NOT_FOUND: return new NotFoundException(message, backtrace);
      case BUSY: return new BusyException(message, backtrace);
      case NO_MEMORY: return new NoMemoryException(message, backtrace);
      default: return new WasmplugException(kind, message, backtrace);
    }
  }
}
