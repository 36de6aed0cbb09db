package dev.wasmplug;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * One C handle: freed exactly once, by close() or, if the owner is forgotten, by the cleaner once
 * the owner is unreachable. The action holds no reference to the owner.
 */
final class NativeRef {
  static final Cleaner CLEANER = Cleaner.create();

  private final State state;
  private final Cleaner.Cleanable cleanable;

  private static final class State implements Runnable {
    final AtomicLong ptr;
    final LongConsumer free;
    final Runnable after;

    State(long ptr, LongConsumer free, Runnable after) {
      this.ptr = new AtomicLong(ptr);
      this.free = free;
      this.after = after;
    }

    @Override
    public void run() {
      long p = ptr.getAndSet(0);
      if (p != 0) {
        free.accept(p);
        if (after != null) after.run();
      }
    }
  }

  /** `after` (may be null) runs once after the handle is freed. */
  NativeRef(Object owner, long ptr, LongConsumer free, Runnable after) {
    this.state = new State(ptr, free, after);
    this.cleanable = CLEANER.register(owner, state);
  }

  /** The handle; IllegalStateException once freed. */
  long get(String what) {
    long p = state.ptr.get();
    if (p == 0) throw new IllegalStateException(what + " is closed");
    return p;
  }

  long peek() {
    return state.ptr.get();
  }

  boolean isClosed() {
    return state.ptr.get() == 0;
  }

  void close() {
    cleanable.clean();
  }
}
