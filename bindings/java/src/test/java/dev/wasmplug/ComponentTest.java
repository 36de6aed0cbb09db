package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ComponentTest {
  static Engine engine;
  static Plugin types;
  static Instance inst;
  static final AtomicInteger roundTrips = new AtomicInteger();
  static final String E = "example:types/echo#";

  @BeforeAll
  static void setUp() {
    engine = Env.engine();
    engine.defineComponentFunc("example:types/host", "round-trip", args -> {
      roundTrips.incrementAndGet();
      @SuppressWarnings("unchecked")
      Map<String, Object> x = new LinkedHashMap<>((Map<String, Object>) args.get(0));
      if ("fail".equals(x.get("s"))) throw new IllegalArgumentException("host refuses " + x.get("s"));
      if ("wrong".equals(x.get("s"))) return 42; // not an everything
      x.put("s", x.get("s") + " (seen by Java)");
      return x;
    });
    try (Manifest m = new Manifest().trapMissingImports(true)) {
      types = engine.load(Env.plugin("types-c-component.wasm"), m);
    }
    inst = types.instantiate();
  }

  @AfterAll
  static void tearDown() {
    inst.close();
    types.close();
    engine.close();
  }

  private static void echo(String fn, Object in, Object expected) {
    assertEquals(expected, inst.invoke(E + fn, in), fn);
  }

  private static void echo(String fn, Object in) {
    echo(fn, in, in);
  }

  @Test
  void scalars() {
    assertTrue(types.isComponent());
    echo("echo-bool", true);
    echo("echo-s8", -128);
    echo("echo-u8", 255);
    echo("echo-s16", -32768);
    echo("echo-u16", 65535);
    echo("echo-s32", Integer.MIN_VALUE);
    echo("echo-u32", 4294967295L);
    echo("echo-s64", Long.MIN_VALUE);
    echo("echo-u64", -1L); // u64 max, as its 64 bits
    echo("echo-u64", new BigInteger("18446744073709551615"), -1L);
    echo("echo-f32", 1.5f);
    echo("echo-f64", Math.PI);
    echo("echo-char", "🦀");
    echo("echo-char", (int) 'x', "x");
    echo("echo-string", "héllo ✓ 🦀");
  }

  @Test
  void compoundValues() {
    assertArrayEquals(new byte[] {0, 1, (byte) 255}, (byte[]) inst.invoke(E + "echo-bytes", (Object) new byte[] {0, 1, (byte) 255}));
    assertArrayEquals(new byte[0], (byte[]) inst.invoke(E + "echo-bytes", List.of()));
    byte[] big = new byte[100 * 1024]; // one copy each way
    for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 7 + 3);
    assertArrayEquals(big, (byte[]) inst.invoke(E + "echo-bytes", (Object) big));
    echo("echo-list", List.of(1L, 2L, 4294967295L));
    echo("echo-list", List.of(), List.of());
    echo("echo-strings", List.of("a", "", "ü"));
    echo("echo-point", Map.of("x", 1, "y", -2), Map.of("x", 1, "y", -2));
    echo("echo-tuple", List.of(7, "seven", 7.0));
    echo("echo-shape", Variant.of("circle", 2.0));
    echo("echo-shape", Variant.of("rect", Map.of("x", 3, "y", 4)));
    echo("echo-shape", Variant.of("empty"));
    echo("echo-shapes", List.of(Variant.of("empty"), Variant.of("circle", 1.0)));
    echo("echo-color", "green");
    echo("echo-option", Optional.of("some text"));
    echo("echo-option", Optional.empty());
    echo("echo-option", null, Optional.empty());
    echo("echo-option", "bare value is some", Optional.of("bare value is some"));
    echo("echo-result", Result.ok(5L));
    echo("echo-result", Result.err("no"));
    echo("echo-option-result", Optional.of(Result.err("blue")));
    echo("echo-option-result", Optional.of(Result.ok("fine")));
    echo("echo-flags", Set.of("read", "exec"));
    echo("echo-flags", Set.of());
    Object label = inst.invoke(E + "echo-label", Map.of("text", "t", "at", Map.of("x", 0, "y", 0),
        "tags", List.of("a", "b"), "scale", Optional.of(2.0)));
    assertEquals(Map.of("text", "t", "at", Map.of("x", 0, "y", 0), "tags", List.of("a", "b"),
        "scale", Optional.of(2.0)), label);
    Object many = inst.invoke(E + "echo-many", 1, "b", List.of(Map.of("x", 1, "y", 2)));
    assertEquals(List.of(1, "b", List.of(Map.of("x", 1, "y", 2))), many);
  }

  enum Color { RED, GREEN, BLUE }

  record Point(int x, int y) {}

  @Test
  void javaRecordsAndEnumsAsArguments() {
    assertEquals(Map.of("x", 5, "y", 6), inst.invoke(E + "echo-point", new Point(5, 6)));
    assertEquals("blue", inst.invoke(E + "echo-color", Color.BLUE));
  }

  static Map<String, Object> everything(String s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", true);
    m.put("v-s8", -1);
    m.put("v-u8", 200);
    m.put("v-s16", -300);
    m.put("v-u16", 60000);
    m.put("v-s32", -70000);
    m.put("v-u32", 3000000000L);
    m.put("v-s64", -5000000000L);
    m.put("v-u64", 5000000000L);
    m.put("v-f32", 0.5f);
    m.put("v-f64", -0.25);
    m.put("c", "ß");
    m.put("s", s);
    m.put("l", List.of("x", "y"));
    m.put("bytes", new byte[] {9, 8});
    m.put("p", Map.of("x", 1, "y", 2));
    m.put("t", List.of(3L, "three"));
    m.put("sh", Variant.of("rect", Map.of("x", -1, "y", -2)));
    m.put("col", "red");
    m.put("o", Optional.empty());
    m.put("r", Result.err("blue"));
    m.put("f", Set.of("write"));
    m.put("nested", List.of(Optional.of(Result.ok(Variant.of("circle", 1.0))), Optional.empty(),
        Optional.of(Result.err("bad"))));
    return m;
  }

  @Test
  void everythingThroughTheHostFunction() {
    int before = roundTrips.get();
    @SuppressWarnings("unchecked")
    Map<String, Object> out = (Map<String, Object>) inst.invoke("call-host", everything("hi"));
    assertEquals(before + 1, roundTrips.get());
    assertEquals("hi (seen by Java)", out.get("s"));
    Map<String, Object> want = everything("hi (seen by Java)");
    assertArrayEquals((byte[]) want.remove("bytes"), (byte[]) out.get("bytes"));
    Map<String, Object> got = new LinkedHashMap<>(out);
    got.remove("bytes");
    assertEquals(want, got);
  }

  @Test
  void failingComponentHostFunction() {
    try (Instance i = types.instantiate()) {
      HostException h = assertThrows(HostException.class, () -> i.invoke("call-host", everything("fail")));
      assertTrue(h.getMessage().contains("host refuses fail"), h.getMessage());
    }
    try (Instance i = types.instantiate()) {
      assertThrows(HostException.class, () -> i.invoke("call-host", everything("wrong")));
    }
  }

  @Test
  void badValuesAreBadInputNamingWhere() {
    BadInputException e = assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-u8", 256));
    assertTrue(e.getMessage().contains("argument 0"), e.getMessage());
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-u32", -1));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-s32", 1.5));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-string", 5));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-char", "ab"));
    e = assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-point", Map.of("x", 1)));
    assertTrue(e.getMessage().contains("y"), e.getMessage());
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-point", Map.of("x", 1, "y", 2, "z", 3)));
    e = assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-shape", Variant.of("hexagon")));
    assertTrue(e.getMessage().contains("hexagon"), e.getMessage());
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-color", "purple"));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-flags", Set.of("fly")));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-many", 1, "b"));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-list", List.of(1L, "two")));
    assertThrows(BadInputException.class, () -> inst.invoke(E + "echo-string", "\ud800"));
    // the instance is still fine
    echo("echo-u8", 1);
  }

  @Test
  void limitsAndTrapsOnComponents() {
    try (Instance i = types.instantiate()) {
      assertThrows(TrapException.class, () -> i.invoke("crash"));
    }
    try (Manifest m = new Manifest().trapMissingImports(true).fuel(100_000);
         Plugin p = engine.load(Env.plugin("types-c-component.wasm"), m);
         Instance i = p.instantiate()) {
      long acc = 0;
      for (long k = 0; k != 10; k++) acc += k ^ (acc >>> 3);
      assertEquals(acc, i.invoke("spin", 10L));
      assertThrows(OutOfFuelException.class, () -> i.invoke("spin", -1L));
    }
    try (Manifest m = new Manifest().trapMissingImports(true).timeout(java.time.Duration.ofMillis(50));
         Plugin p = engine.load(Env.plugin("types-c-component.wasm"), m);
         Instance i = p.instantiate()) {
      assertThrows(WasmplugTimeoutException.class, () -> i.invoke("spin", -1L));
    }
    try (Manifest m = new Manifest().trapMissingImports(true).maxMemory(4 << 20);
         Plugin p = engine.load(Env.plugin("types-c-component.wasm"), m);
         Instance i = p.instantiate()) {
      // malloc fails inside the limit: the plugin holds fewer MiB than asked
      long held = (Long) i.invoke("hog", 64);
      assertTrue(held < 4, "held " + held + " MiB");
      assertTrue(i.memorySize() <= 4 << 20, "memory " + i.memorySize());
    }
  }

  @Test
  void helloComponentByInvokeAndAsABytesFunction() {
    java.util.List<String> logs = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (Engine e = Engine.builder().logger((l, p, m) -> logs.add(m)).build();
         Plugin p = e.load(Env.plugin("hello-c-component.wasm"));
         Instance i = p.instantiate()) {
      assertEquals("Hello, world!", i.invoke("greet", "world"));
      assertEquals("Hello, there!", i.invoke("example:hello/greeter#greet", "there"));
      Func greet = p.func("greet");
      assertEquals("func(name: string) -> string", greet.witType());
      assertTrue(greet.isBytes());
      assertEquals("Hello, bytes!", i.callString(greet, "bytes"));
      assertFalse(logs.isEmpty(), "the component logged through the host");
      assertThrows(BadInputException.class, () -> i.call("greet", 1));
    }
  }
}
