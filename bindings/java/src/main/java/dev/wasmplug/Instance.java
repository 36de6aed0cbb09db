package dev.wasmplug;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A sandbox made from a {@link Plugin}: its own memory, WASI view and limits. One call at a time:
 * calls from several threads are serialized (use a {@link Pool} for parallel calls). {@link
 * #interrupt()} may be called from any thread. After a failed call (trap, timeout, limit) {@link
 * #reset()} it or close it.
 */
public class Instance implements AutoCloseable {
  private final Plugin plugin;
  private final NativeRef ref;
  private final Object interruptLock = new Object();
  /** Native scratch space for wp_val arrays and out-parameters (guarded by this). */
  private ByteBuffer scratch;
  private long scratchAddr;

  Instance(Plugin plugin, long ptr) {
    this(plugin, ptr, null);
  }

  /** `release` (pooled instances): what closing does instead of wp_instance_free. */
  Instance(Plugin plugin, long ptr, java.util.function.LongConsumer release) {
    this.plugin = plugin;
    Engine.Core core = plugin.core;
    core.retain();
    this.ref = new NativeRef(this, ptr, release != null ? release : Lib::wp_instance_free,
        core::release);
    grow(64);
  }

  /** Bytes calls with more input than this go through JNA, not the scratch buffer. */
  private static final int FAST_BYTES_MAX = 64 << 10;

  private void grow(int bytes) {
    scratch = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    scratchAddr = Pointer.nativeValue(Native.getDirectBufferPointer(scratch));
  }

  public Plugin plugin() {
    return plugin;
  }

  private long ptr() {
    return ref.get("instance");
  }

  private Func own(Func f) {
    Objects.requireNonNull(f, "func");
    if (f.plugin != plugin) {
      throw new BadInputException("function '" + f.name + "' belongs to plugin '" + f.plugin.name()
          + "', not to this instance's '" + plugin.name() + "'");
    }
    return f;
  }

  private Func numeric(Func f, int nargs) {
    own(f);
    if (plugin.isComponent() || !f.numeric) {
      throw new BadInputException("export '" + f.name + "' is not a numeric core function"
          + (plugin.isComponent() ? ": call components with invoke()" : ""));
    }
    if (nargs != f.params.length) {
      throw new BadInputException("export '" + f.name + "' takes " + f.params.length
          + " arguments, got " + nargs);
    }
    int need = 16 * (f.params.length + f.results.length);
    if (need > scratch.capacity()) grow(need);
    return f;
  }

  /**
   * Calls a numeric export with integer arguments (i32 or i64 as declared; an i32 argument must fit
   * in an int) and returns its one integer result (an i32 sign-extended). The fast path.
   */
  public synchronized long callLong(Func f, long... args) {
    long inst = ptr();
    numeric(f, args.length);
    ValType[] rt = f.results;
    if (rt.length != 1 || rt[0] == ValType.F32 || rt[0] == ValType.F64) {
      throw new BadInputException("export '" + f.name + "' does not return one integer: use call()");
    }
    ByteBuffer b = scratch;
    int[] codes = f.paramCodes;
    for (int i = 0; i < args.length; i++) {
      int off = 16 * i;
      b.putInt(off, codes[i]);
      if (codes[i] == 0) {
        long v = args[i];
        if (v != (int) v) throw new BadInputException("argument " + i + " of '" + f.name
            + "' is an i32; " + v + " does not fit");
        b.putInt(off + 8, (int) v);
      } else if (codes[i] == 1) {
        b.putLong(off + 8, args[i]);
      } else {
        throw new BadInputException("argument " + i + " of '" + f.name + "' is a float: use call()");
      }
    }
    int roff = 16 * args.length;
    long err = Fast.CALL_FUNC != null
        ? Fast.callFunc(inst, f.id, scratchAddr, args.length, scratchAddr + roff, 1)
        : Lib.wp_instance_call_func(inst, f.id, scratchAddr, args.length, scratchAddr + roff, 1);
    if (err != 0) throw Util.take(err);
    return rt[0] == ValType.I32 ? b.getInt(roff + 8) : b.getLong(roff + 8);
  }

  /** As {@link #callLong(Func, long...)}, by export name. */
  public long callLong(String name, long... args) {
    return callLong(plugin.func(name), args);
  }

  /**
   * Calls a numeric export: each argument is converted to the declared type (Integer, Long, Float,
   * Double or any Number; integers must fit), results come back as Integer, Long, Float or Double.
   */
  public synchronized Number[] call(Func f, Number... args) {
    long inst = ptr();
    numeric(f, args.length);
    ByteBuffer b = scratch;
    for (int i = 0; i < args.length; i++) {
      int off = 16 * i;
      Number a = args[i];
      if (a == null) throw new BadInputException("argument " + i + " of '" + f.name + "' is null");
      ValType t = f.params[i];
      b.putInt(off, t.ordinal());
      switch (t) {
        case I32:
          if (!(a instanceof Integer || a instanceof Short || a instanceof Byte
              || (a instanceof Long && a.longValue() == a.intValue()))) {
            throw new BadInputException("argument " + i + " of '" + f.name + "' is an i32, got " + a);
          }
          b.putInt(off + 8, a.intValue());
          break;
        case I64:
          if (a instanceof Float || a instanceof Double) {
            throw new BadInputException("argument " + i + " of '" + f.name + "' is an i64, got " + a);
          }
          b.putLong(off + 8, a.longValue());
          break;
        case F32:
          b.putFloat(off + 8, a.floatValue());
          break;
        default:
          b.putDouble(off + 8, a.doubleValue());
      }
    }
    int roff = 16 * args.length;
    long err = Fast.CALL_FUNC != null
        ? Fast.callFunc(inst, f.id, scratchAddr, args.length, scratchAddr + roff, f.results.length)
        : Lib.wp_instance_call_func(inst, f.id, scratchAddr, args.length, scratchAddr + roff,
            f.results.length);
    if (err != 0) throw Util.take(err);
    Number[] out = new Number[f.results.length];
    for (int i = 0; i < out.length; i++) {
      int off = roff + 16 * i + 8;
      switch (f.results[i]) {
        case I32: out[i] = b.getInt(off); break;
        case I64: out[i] = b.getLong(off); break;
        case F32: out[i] = b.getFloat(off); break;
        default: out[i] = b.getDouble(off);
      }
    }
    return out;
  }

  public Number[] call(String name, Number... args) {
    return call(plugin.func(name), args);
  }

  /**
   * Calls a bytes export ({@link Func#isBytes()}): a core module's bytes ABI or a component
   * function of list&lt;u8&gt;/string to list&lt;u8&gt;/string. Returns a copy of the output.
   */
  public synchronized byte[] callBytes(Func f, byte[] input) {
    long inst = ptr();
    own(f);
    Objects.requireNonNull(input, "input");
    if (Fast.CALL_FUNC_BYTES == null || input.length > FAST_BYTES_MAX) {
      long err = Lib.wp_instance_call_func_bytes(inst, f.id, input, input.length, scratchAddr,
          scratchAddr + 8);
      if (err != 0) throw Util.take(err);
      return Util.bytes(scratch.getLong(0), scratch.getLong(8));
    }
    // [0, 16): out pointer and length; the input, then the output, from 16 on
    if (16 + input.length > scratch.capacity()) grow(Math.max(16 + input.length, 2 * scratch.capacity()));
    ByteBuffer b = scratch;
    b.put(16, input);
    long err = Fast.callFuncBytes(inst, f.id, scratchAddr + 16, input.length, scratchAddr,
        scratchAddr + 8);
    if (err != 0) throw Util.take(err);
    long out = b.getLong(0), len = b.getLong(8);
    if (len > Integer.MAX_VALUE - 8) throw new NoMemoryException("output too large for a Java array");
    if (16 + len > b.capacity()) {
      if (16 + len > FAST_BYTES_MAX + 16) return Util.bytes(out, len);
      grow((int) (16 + len));
      b = scratch;
    }
    Fast.memcpy(scratchAddr + 16, out, len);
    byte[] res = new byte[(int) len];
    b.get(16, res);
    return res;
  }

  public byte[] callBytes(String name, byte[] input) {
    return callBytes(plugin.func(name), input);
  }

  /** Calls a bytes export with a string (UTF-8 in, UTF-8 out, checked both ways). */
  public synchronized String callString(String name, String input) {
    long inst = ptr();
    Objects.requireNonNull(input, "input");
    Util.check(Lib.wp_instance_call_string(inst, Util.cstr(name), Util.cstr(input), scratchAddr));
    return Util.str(scratch.getLong(0));
  }

  public String callString(Func f, String input) {
    return callString(own(f).name, input);
  }

  /**
   * Calls a component export with typed values (see {@link Values} for the mapping). Returns the
   * result as a Java value, or null when the function has none.
   */
  public synchronized Object invoke(Func f, Object... args) {
    long inst = ptr();
    own(f);
    if (f.functype == 0) {
      throw new BadInputException("export '" + f.name + "' is not a component function: use call()");
    }
    long ft = f.functype;
    long n = Lib.wp_functype_param_count(ft);
    if (args == null) args = new Object[] {null};
    if (args.length != n) {
      throw new BadInputException(
          "'" + f.name + "' (" + f.witType() + ") takes " + n + " arguments, got " + args.length);
    }
    long[] vals = new long[args.length];
    try {
      for (int i = 0; i < args.length; i++) {
        vals[i] = Values.fromJava(Lib.wp_functype_param_type(ft, i), args[i], "argument " + i);
      }
      long[] result = new long[1];
      Util.check(Lib.wp_instance_invoke_func(inst, f.id, vals, vals.length, result));
      try {
        return Values.toJava(result[0], Lib.wp_functype_result(ft));
      } finally {
        Lib.wp_value_free(result[0]);
      }
    } finally {
      for (long v : vals) Lib.wp_value_free(v);
    }
  }

  public Object invoke(String name, Object... args) {
    return invoke(plugin.func(name), args);
  }

  /** Runs a WASI command's _start; returns its exit code. */
  public synchronized int run() {
    long inst = ptr();
    int[] code = new int[1];
    Util.check(Lib.wp_instance_run(inst, code));
    return code[0];
  }

  /** What the plugin wrote to stdout (with {@link Manifest.Stdio#CAPTURE}). */
  public synchronized byte[] stdout() {
    long[] len = new long[1];
    long p = Lib.wp_instance_get_stdout(ptr(), len);
    return p == 0 ? new byte[0] : Util.bytes(p, len[0]);
  }

  public synchronized byte[] stderr() {
    long[] len = new long[1];
    long p = Lib.wp_instance_get_stderr(ptr(), len);
    return p == 0 ? new byte[0] : Util.bytes(p, len[0]);
  }

  /** Fuel the last call used (0 when not metered). */
  public synchronized long fuelUsed() {
    return Lib.wp_instance_get_fuel_used(ptr());
  }

  /** Current size of the instance's linear memories, in bytes. */
  public synchronized long memorySize() {
    return Lib.wp_instance_get_memory_size(ptr());
  }

  /** Throws the state away and instantiates afresh (use after a failed call). */
  public synchronized void reset() {
    Util.check(Lib.wp_instance_reset(ptr()));
  }

  /**
   * Stops the call running on this instance (it fails with {@link InterruptedCallException}), or the
   * next one if none runs. Any thread; a no-op once closed.
   */
  public void interrupt() {
    synchronized (interruptLock) {
      long p = ref.peek();
      if (p != 0) Lib.wp_instance_interrupt(p);
    }
  }

  public boolean isClosed() {
    return ref.isClosed();
  }

  /** Frees the instance (a pooled one goes back to its pool). Safe to call twice. */
  @Override
  public void close() {
    synchronized (this) {
      synchronized (interruptLock) {
        ref.close();
      }
    }
  }
}
