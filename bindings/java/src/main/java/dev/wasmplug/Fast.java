package dev.wasmplug;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;

/**
 * The hot calls through the JDK's foreign function API (java.lang.foreign, final in Java 22) when
 * the running JDK has it, else null and the callers use JNA direct mapping ({@link Lib}). The
 * binding is compiled for Java 17, so the API is reached by reflection, once, here; the handles
 * are static finals that the JIT inlines. Every argument is a {@code long} or an {@code int}, so no
 * foreign type appears in a call. Off with {@code -Dwasmplug.ffm=false}. On Java 22+ run with
 * {@code --enable-native-access=ALL-UNNAMED} to silence the JDK's warning.
 */
final class Fast {
  private Fast() {}

  /** wp_instance_call_func(inst, func, args, nargs, results, nresults) -> wp_error*. */
  static final MethodHandle CALL_FUNC;
  /** wp_instance_call_func_bytes(inst, func, in, in_len, &out, &out_len) -> wp_error*. */
  static final MethodHandle CALL_FUNC_BYTES;
  /** memcpy(dst, src, n). */
  static final MethodHandle MEMCPY;
  /** Why the fast path is off (null when on), for {@link Engine#callPath()}. */
  static final String OFF_REASON;

  static {
    MethodHandle call = null, bytes = null, memcpy = null;
    String off = null;
    if (!Boolean.parseBoolean(System.getProperty("wasmplug.ffm", "true"))) {
      off = "turned off (-Dwasmplug.ffm=false)";
    } else {
      try {
        Class<?> linkerC = Class.forName("java.lang.foreign.Linker");
        Object linker = linkerC.getMethod("nativeLinker").invoke(null);
        Class<?> valueLayout = Class.forName("java.lang.foreign.ValueLayout");
        Object jlong = valueLayout.getField("JAVA_LONG").get(null);
        Object jint = valueLayout.getField("JAVA_INT").get(null);
        Class<?> layout = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> fdC = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> segC = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> optC = Class.forName("java.lang.foreign.Linker$Option");
        var of = fdC.getMethod("of", layout, layout.arrayType());
        var ofAddress = segC.getMethod("ofAddress", long.class);
        var downcall = linkerC.getMethod("downcallHandle", segC, fdC, optC.arrayType());
        Object noOpts = Array.newInstance(optC, 0);
        Object six = of.invoke(null, jlong, layouts(layout, jlong, jint, jlong, jlong, jlong, jlong));
        Object three = of.invoke(null, jlong, layouts(layout, jlong, jlong, jlong));
        NativeLibrary wp = Lib.LIBRARY;
        call = (MethodHandle) downcall.invoke(linker,
            ofAddress.invoke(null, addr(wp, "wp_instance_call_func")), six, noOpts);
        bytes = (MethodHandle) downcall.invoke(linker,
            ofAddress.invoke(null, addr(wp, "wp_instance_call_func_bytes")), six, noOpts);
        memcpy = (MethodHandle) downcall.invoke(linker,
            ofAddress.invoke(null, addr(NativeLibrary.getInstance("c"), "memcpy")), three, noOpts);
      } catch (ClassNotFoundException e) {
        off = "this JDK (" + System.getProperty("java.version") + ") has no java.lang.foreign";
        call = bytes = memcpy = null;
      } catch (Throwable e) {
        off = "java.lang.foreign unusable: " + e;
        call = bytes = memcpy = null;
      }
    }
    CALL_FUNC = call;
    CALL_FUNC_BYTES = bytes;
    MEMCPY = memcpy;
    OFF_REASON = off;
  }

  private static Object layouts(Class<?> layout, Object... items) {
    Object arr = Array.newInstance(layout, items.length);
    for (int i = 0; i < items.length; i++) Array.set(arr, i, items[i]);
    return arr;
  }

  private static long addr(NativeLibrary lib, String name) {
    return Pointer.nativeValue(lib.getFunction(name));
  }

  static long callFunc(long inst, int func, long args, long nargs, long results, long nresults) {
    try {
      return (long) CALL_FUNC.invokeExact(inst, func, args, nargs, results, nresults);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static long callFuncBytes(long inst, int func, long in, long len, long out, long outLen) {
    try {
      return (long) CALL_FUNC_BYTES.invokeExact(inst, func, in, len, out, outLen);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  static void memcpy(long dst, long src, long n) {
    try {
      long ignored = (long) MEMCPY.invokeExact(dst, src, n);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
