package dev.wasmplug;

/**
 * The context of the host function call running on this thread: how much time the plugin's call
 * has left and whether it was interrupted. Valid only inside the host function.
 */
public final class HostCall {
  private static final ThreadLocal<HostCall> CURRENT = new ThreadLocal<>();
  private final long call;

  private HostCall(long call) {
    this.call = call;
  }

  /** The call running on this thread; IllegalStateException outside a host function. */
  public static HostCall current() {
    HostCall c = CURRENT.get();
    if (c == null) throw new IllegalStateException("not inside a host function");
    return c;
  }

  /** Milliseconds before the plugin call's deadline; Long.MAX_VALUE when it has none. */
  public long timeLeftMillis() {
    long ms = Lib.wp_host_call_time_left_ms(call);
    return ms == -1L ? Long.MAX_VALUE : ms;
  }

  /** Whether {@link Instance#interrupt()} was called: a waiting host function should give up. */
  public boolean interrupted() {
    return Lib.wp_host_call_interrupted(call);
  }

  static HostCall enter(long call) {
    HostCall prev = CURRENT.get();
    CURRENT.set(new HostCall(call));
    return prev;
  }

  static void leave(HostCall prev) {
    if (prev == null) CURRENT.remove();
    else CURRENT.set(prev);
  }
}
