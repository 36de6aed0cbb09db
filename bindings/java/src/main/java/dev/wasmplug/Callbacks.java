package dev.wasmplug;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The C callbacks. Each kind has one static trampoline (never collected, so C may call it at any
 * time); C's user_data is an id into {@link #REGISTRY}, which holds the Java lambda strongly until
 * C says it is done with it (the free_user_data callback of host functions) or, for the log
 * handler, until the engine and everything made from it are closed.
 */
final class Callbacks {
  private Callbacks() {}

  private static final Map<Long, Object> REGISTRY = new ConcurrentHashMap<>();
  private static final AtomicLong IDS = new AtomicLong(1);

  static long register(Object o) {
    long id = IDS.getAndIncrement();
    REGISTRY.put(id, o);
    return id;
  }

  static void unregister(long id) {
    REGISTRY.remove(id);
  }

  static int registered() {
    return REGISTRY.size();
  }

  record NumericEntry(HostFunctions.Numeric fn, ValType[] params, ValType[] results) {}

  record BytesEntry(HostFunctions.Bytes bytes, HostFunctions.Text text) {}

  record ComponentEntry(HostFunctions.Component fn, String iface, String name) {}

  /** The message a host function's exception fails the plugin's call with. */
  private static long fail(Throwable t) {
    String msg = t.getMessage();
    String text = msg == null ? t.getClass().getName() : t.getClass().getSimpleName() + ": " + msg;
    return Util.newError(ErrorKind.HOST, text);
  }

  static final Lib.HostFn HOST_FN = (call, args, nargs, results, nresults, ud) -> {
    NumericEntry e = (NumericEntry) REGISTRY.get(ud);
    if (e == null) return Util.newError(ErrorKind.HOST, "host function is gone");
    HostCall prev = HostCall.enter(call);
    try {
      Pointer a = nargs > 0 ? new Pointer(args) : null;
      Number[] in = new Number[(int) nargs];
      for (int i = 0; i < nargs; i++) {
        long off = 16L * i;
        switch (ValType.of(a.getInt(off))) {
          case I32: in[i] = a.getInt(off + 8); break;
          case I64: in[i] = a.getLong(off + 8); break;
          case F32: in[i] = a.getFloat(off + 8); break;
          default: in[i] = a.getDouble(off + 8); break;
        }
      }
      Number[] out = e.fn.call(in);
      int n = out == null ? 0 : out.length;
      if (n != nresults) {
        return Util.newError(ErrorKind.HOST,
            "host function returned " + n + " results, declared " + nresults);
      }
      Pointer r = nresults > 0 ? new Pointer(results) : null;
      for (int i = 0; i < n; i++) {
        long off = 16L * i;
        ValType t = e.results[i];
        if (out[i] == null) return Util.newError(ErrorKind.HOST, "host function result " + i + " is null");
        r.setInt(off, t.ordinal());
        switch (t) {
          case I32: r.setInt(off + 8, out[i].intValue()); break;
          case I64: r.setLong(off + 8, out[i].longValue()); break;
          case F32: r.setFloat(off + 8, out[i].floatValue()); break;
          default: r.setDouble(off + 8, out[i].doubleValue()); break;
        }
      }
      return 0;
    } catch (Throwable t) {
      return fail(t);
    } finally {
      HostCall.leave(prev);
    }
  };

  static final Lib.BytesFn BYTES_FN = (call, input, len, ud) -> {
    BytesEntry e = (BytesEntry) REGISTRY.get(ud);
    if (e == null) return Util.newError(ErrorKind.HOST, "host function is gone");
    HostCall prev = HostCall.enter(call);
    try {
      byte[] in = Util.bytes(input, len);
      byte[] out;
      if (e.text != null) {
        String s = e.text.call(Util.fromUtf8(in));
        out = s == null ? new byte[0] : Util.utf8(s);
      } else {
        out = e.bytes.call(in);
        if (out == null) out = new byte[0];
      }
      return Lib.wp_host_call_set_output(call, out, out.length);
    } catch (Throwable t) {
      return fail(t);
    } finally {
      HostCall.leave(prev);
    }
  };

  static final Lib.ComponentFn COMPONENT_FN = (call, args, nargs, result, ud) -> {
    ComponentEntry e = (ComponentEntry) REGISTRY.get(ud);
    if (e == null) return Util.newError(ErrorKind.HOST, "host function is gone");
    HostCall prev = HostCall.enter(call);
    try {
      long ft = Lib.wp_host_call_get_functype(call);
      List<Object> in = new ArrayList<>((int) nargs);
      Pointer a = nargs > 0 ? new Pointer(args) : null;
      long np = Lib.wp_functype_param_count(ft);
      for (int i = 0; i < nargs; i++) {
        in.add(Values.toJava(a.getLong(8L * i), i < np ? Lib.wp_functype_param_type(ft, i) : 0));
      }
      Object out = e.fn.call(java.util.Collections.unmodifiableList(in));
      long type = Lib.wp_functype_result(ft);
      if (type != 0) {
        new Pointer(result).setLong(0, Values.fromJava(type, out, "result"));
      } else if (out != null) {
        return Util.newError(ErrorKind.HOST,
            "host function " + e.name + " has no result but returned " + out.getClass().getName());
      }
      return 0;
    } catch (Throwable t) {
      return fail(t);
    } finally {
      HostCall.leave(prev);
    }
  };

  static final Lib.LogFn LOG_FN = (ud, level, plugin, msg, len) -> {
    LogHandler h = (LogHandler) REGISTRY.get(ud);
    if (h == null) return;
    try {
      String m = new String(Util.bytes(msg, len), java.nio.charset.StandardCharsets.UTF_8);
      h.log(LogLevel.of(level), Util.str(plugin), m);
    } catch (Throwable t) {
      // a log handler's failure must not reach C
    }
  };

  static final Lib.FreeFn FREE_FN = Callbacks::unregister;

  static {
    for (com.sun.jna.Callback cb : new com.sun.jna.Callback[] {HOST_FN, BYTES_FN, COMPONENT_FN, LOG_FN, FREE_FN}) {
      Native.setCallbackThreadInitializer(cb, Lib.THREADS);
    }
  }
}
