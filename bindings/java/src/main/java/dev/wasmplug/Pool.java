package dev.wasmplug;

import java.util.function.Function;

/**
 * A supply of instances of one plugin, shared between threads: {@link #take()} hands one out (close
 * it to give it back), or {@link #with} does both around a lambda. An instance whose call failed is
 * never handed out again. Closing the pool while instances are taken is safe: it is freed when the
 * last one comes back.
 */
public final class Pool implements AutoCloseable {
  private final Plugin plugin;
  private final long ptr;
  private int taken;
  private boolean closed, freed;

  Pool(Plugin plugin, long ptr) {
    this.plugin = plugin;
    this.ptr = ptr;
    plugin.core.retain();
    // The pool's C handle is freed by close() or when its last instance returns; if the pool is
    // forgotten (unreachable, so none is taken), the cleaner frees it.
    this.cleanable = NativeRef.CLEANER.register(this, new Freer(ptr, plugin.core));
  }

  private final java.lang.ref.Cleaner.Cleanable cleanable;

  private static final class Freer implements Runnable {
    private final long ptr;
    private final Engine.Core core;
    private boolean done;

    Freer(long ptr, Engine.Core core) {
      this.ptr = ptr;
      this.core = core;
    }

    @Override
    public synchronized void run() {
      if (done) return;
      done = true;
      Lib.wp_pool_free(ptr);
      core.release();
    }
  }

  /** Hands out an instance (made if none is idle); close it to give it back. */
  public Instance take() {
    synchronized (this) {
      if (closed) throw new IllegalStateException("pool is closed");
      taken++;
    }
    long[] out = new long[1];
    long err = Lib.wp_pool_take(ptr, out);
    if (err != 0) {
      giveBack();
      throw Util.take(err);
    }
    return new Instance(plugin, out[0], p -> {
      Lib.wp_pool_release(ptr, p);
      giveBack();
    });
  }

  /** Takes an instance, runs `body` with it and gives it back. */
  public <T> T with(Function<Instance, T> body) {
    try (Instance inst = take()) {
      return body.apply(inst);
    }
  }

  /** How many instances wait idle now. */
  public synchronized int idle() {
    if (freed) return 0;
    return (int) Lib.wp_pool_get_idle(ptr);
  }

  private void giveBack() {
    boolean free;
    synchronized (this) {
      taken--;
      free = closed && taken == 0 && !freed;
      if (free) freed = true;
    }
    if (free) doFree();
  }

  private void doFree() {
    cleanable.clean();
  }

  /** Closes the pool; it is freed now, or when the last taken instance is closed. Idempotent. */
  @Override
  public void close() {
    boolean free;
    synchronized (this) {
      if (closed) return;
      closed = true;
      free = taken == 0 && !freed;
      if (free) freed = true;
    }
    if (free) doFree();
  }
}
