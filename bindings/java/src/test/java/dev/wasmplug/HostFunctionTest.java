package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class HostFunctionTest {
  private static final ValType[] I32 = {ValType.I32};
  private static final ValType[] I32x2 = {ValType.I32, ValType.I32};

  static Engine hostEngine(AtomicInteger nops) {
    Engine e = Env.engine();
    e.defineFunc("test", "add", I32x2, I32, args -> new Number[] {(Integer) args[0] + (Integer) args[1]});
    e.defineFunc("test", "scale", new ValType[] {ValType.I64, ValType.F64}, new ValType[] {ValType.F64},
        args -> new Number[] {(Long) args[0] * (Double) args[1]});
    e.defineBytes("test", "upper", in -> new String(in, StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8));
    e.defineFunc("test", "fail", I32, I32, args -> {
      throw new IllegalStateException("no luck with " + args[0]);
    });
    e.defineFunc("test", "nop", new ValType[0], new ValType[0], args -> {
      nops.incrementAndGet();
      return null;
    });
    return e;
  }

  @Test
  void numericBytesAndFailingHostFunctions() {
    AtomicInteger nops = new AtomicInteger();
    try (Engine e = hostEngine(nops); Plugin p = e.load(Env.fixture("host.wat")); Instance inst = p.instantiate()) {
      assertEquals(12, inst.callLong("call_add", 5, 7));
      assertArrayEquals(new Number[] {7.5}, inst.call("call_scale", 3L, 2.5));
      assertEquals("SHOUT ÄÖ", inst.callString("shout", "shout äö"));
      inst.call("call_nop", 5);
      assertEquals(5, nops.get());
      HostException h = assertThrows(HostException.class, () -> inst.callLong("call_fail", 9));
      assertEquals(ErrorKind.HOST, h.kind());
      assertTrue(h.getMessage().contains("no luck with 9"), h.getMessage());
      inst.reset();
      assertEquals(2, inst.callLong("call_add", 1, 1));
    }
  }

  @Test
  void wrongResultCountFromALambdaIsAHostError() {
    try (Engine e = Env.engine()) {
      e.defineFunc("test", "add", I32x2, I32, args -> new Number[] {1, 2});
      e.defineFunc("test", "scale", new ValType[] {ValType.I64, ValType.F64}, new ValType[] {ValType.F64}, a -> null);
      e.defineBytes("test", "upper", in -> in);
      e.defineFunc("test", "fail", I32, I32, a -> new Number[] {0});
      e.defineFunc("test", "nop", new ValType[0], new ValType[0], a -> null);
      try (Plugin p = e.load(Env.fixture("host.wat")); Instance inst = p.instantiate()) {
        assertThrows(HostException.class, () -> inst.callLong("call_add", 1, 2));
        inst.reset();
        assertThrows(HostException.class, () -> inst.call("call_scale", 1L, 1.0));
      }
    }
  }

  @Test
  void missingHostFunctionIsALinkError() {
    try (Engine e = Env.engine()) {
      LinkException l = assertThrows(LinkException.class, () -> e.load(Env.fixture("host.wat")));
      assertEquals(ErrorKind.LINK, l.kind());
      assertTrue(l.getMessage().contains("add"), l.getMessage());
    }
  }

  @Test
  void callbackPluginCallsAStringHostFunction() {
    List<String> seen = new CopyOnWriteArrayList<>();
    try (Engine e = Env.engine()) {
      e.defineString("plugin", "call_me", name -> {
        seen.add(name);
        assertTrue(HostCall.current().timeLeftMillis() > 0);
        assertFalse(HostCall.current().interrupted());
        if (name.length() > 200) throw new IllegalArgumentException("call_me: name longer than 200 bytes");
        return "Hello " + name;
      });
      try (Plugin p = e.load(Env.plugin("callback-c.wasm")); Instance inst = p.instantiate()) {
        assertEquals("Hello Java", inst.callString("callback", "Java"));
        assertEquals("Hello Nic", inst.callString("callback", ""));
        assertEquals(List.of("Java", "Nic"), seen);
        HostException h = assertThrows(HostException.class, () -> inst.callString("callback", "x".repeat(300)));
        assertTrue(h.getMessage().contains("longer than 200"), h.getMessage());
      }
    }
    assertThrows(IllegalStateException.class, HostCall::current);
  }
}
