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
        MethodHandle[] h = incubator();
        if (h != null) {
          call = h[0];
          bytes = h[1];
          memcpy = h[2];
        } else {
          off = "this JDK (" + System.getProperty("java.version") + ") has no java.lang.foreign;"
              + " on Java 17 add --add-modules jdk.incubator.foreign for its incubating version";
          call = bytes = memcpy = null;
        }
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

  /** Java 17's incubating API (jdk.incubator.foreign), when the module was added; else null. */
  private static MethodHandle[] incubator() {
    try {
      Class<?> clinker = Class.forName("jdk.incubator.foreign.CLinker");
      Object linker = clinker.getMethod("getInstance").invoke(null);
      Object clong = clinker.getField("C_LONG").get(null);
      Object cint = clinker.getField("C_INT").get(null);
      Class<?> layout = Class.forName("jdk.incubator.foreign.MemoryLayout");
      Class<?> fdC = Class.forName("jdk.incubator.foreign.FunctionDescriptor");
      Class<?> addrC = Class.forName("jdk.incubator.foreign.MemoryAddress");
      Class<?> addressable = Class.forName("jdk.incubator.foreign.Addressable");
      var of = fdC.getMethod("of", layout, layout.arrayType());
      var ofLong = addrC.getMethod("ofLong", long.class);
      var downcall = clinker.getMethod("downcallHandle", addressable, java.lang.invoke.MethodType.class, fdC);
      Object six = of.invoke(null, clong, layouts(layout, clong, cint, clong, clong, clong, clong));
      Object three = of.invoke(null, clong, layouts(layout, clong, clong, clong));
      var t6 = java.lang.invoke.MethodType.methodType(long.class, long.class, int.class, long.class,
          long.class, long.class, long.class);
      var t3 = java.lang.invoke.MethodType.methodType(long.class, long.class, long.class, long.class);
      NativeLibrary wp = Lib.LIBRARY;
      return new MethodHandle[] {
        (MethodHandle) downcall.invoke(linker, ofLong.invoke(null, addr(wp, "wp_instance_call_func")), t6, six),
        (MethodHandle) downcall.invoke(linker, ofLong.invoke(null, addr(wp, "wp_instance_call_func_bytes")), t6, six),
        (MethodHandle) downcall.invoke(linker, ofLong.invoke(null, addr(NativeLibrary.getInstance("c"), "memcpy")), t3, three),
      };
    } catch (Throwable e) {
      return null;
    }
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
