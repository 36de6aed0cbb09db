package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CoreCallTest {
  static Engine engine;
  static Plugin numeric, echo;

  @BeforeAll
  static void setUp() {
    engine = Env.engine();
    numeric = engine.load(Env.fixture("numeric.wat"));
    echo = engine.load(Env.fixture("echo.wat"));
  }

  @AfterAll
  static void tearDown() {
    numeric.close();
    echo.close();
    engine.close();
  }

  @Test
  void numericCallsOfEveryType() {
    try (Instance inst = numeric.instantiate()) {
      assertArrayEquals(new Number[] {5}, inst.call("add", 2, 3));
      assertArrayEquals(new Number[] {1L << 40}, inst.call("add64", 1L << 39, 1L << 39));
      assertArrayEquals(new Number[] {7.5f}, inst.call("mulf32", 2.5f, 3f));
      assertArrayEquals(new Number[] {0.25}, inst.call("divf64", 1.0, 4.0));
      assertArrayEquals(new Number[] {-7, -7L}, inst.call("pair", -7));
      assertArrayEquals(new Number[0], inst.call("nothing"));
      assertEquals(Integer.MIN_VALUE, inst.callLong("add", Integer.MAX_VALUE, 1));
      assertEquals(1L << 33, inst.callLong("add64", 1L << 32, 1L << 32));
    }
  }

  @Test
  void hotCallsTakeTheJdksForeignFunctionsWhenItHasThem() {
    boolean on = Boolean.parseBoolean(System.getProperty("wasmplug.ffm", "true"));
    if (on && Runtime.version().feature() >= 22) {
      assertEquals("java.lang.foreign", Engine.callPath());
    } else if (on && Runtime.version().feature() == 17
        && ModuleLayer.boot().findModule("jdk.incubator.foreign").isPresent()) {
      assertEquals("jdk.incubator.foreign", Engine.callPath());
    } else {
      assertTrue(Engine.callPath().startsWith("JNA direct mapping"), Engine.callPath());
    }
  }

  @Test
  void bigBytesCallsAndOutputs() {
    try (Instance inst = echo.instantiate()) {
      for (int n : new int[] {1, 100, 65536 - 16, 65536, 200_000}) {
        byte[] in = new byte[n];
        new java.util.Random(n).nextBytes(in);
        assertArrayEquals(in, inst.callBytes("echo", in), "size " + n);
      }
    }
  }

  @Test
  void functionHandleIsFoundOnceAndServesEveryInstance() {
    Func add = numeric.func("add");
    assertSame(add, numeric.func("add"));
    assertEquals(java.util.List.of(ValType.I32, ValType.I32), add.params());
    assertEquals(java.util.List.of(ValType.I32), add.results());
    assertFalse(add.isBytes());
    try (Instance a = numeric.instantiate(); Instance b = numeric.instantiate()) {
      for (int i = 0; i < 1000; i++) {
        assertEquals(i + 1, a.callLong(add, i, 1));
        assertEquals(i - 1, b.callLong(add, i, -1));
      }
    }
  }

  @Test
  void badArgumentsAreBadInput() {
    try (Instance inst = numeric.instantiate()) {
      Func add = numeric.func("add");
      assertEquals(ErrorKind.BAD_INPUT, assertThrows(BadInputException.class, () -> inst.callLong(add, 1)).kind());
      assertThrows(BadInputException.class, () -> inst.callLong(add, 1L << 40, 1));
      assertThrows(BadInputException.class, () -> inst.call(add, 1.5, 2));
      assertThrows(BadInputException.class, () -> inst.callLong("mulf32", 1, 2));
      assertThrows(BadInputException.class, () -> inst.call(add, 1, null));
      // a handle of another plugin
      assertThrows(BadInputException.class, () -> inst.callLong(echo.func("echo"), 1, 2));
      // a bytes call on a numeric export: the library says which call to use
      BadInputException e = assertThrows(BadInputException.class, () -> inst.callBytes("add64", new byte[1]));
      assertTrue(e.getMessage().contains("add64"), e.getMessage());
      // (i32, i32) -> i32 has the bytes shape, but this plugin has no cabi_realloc: the plugin's fault
      assertThrows(AbiException.class, () -> inst.callBytes("add", new byte[1]));
      // the instance still works
      assertEquals(3, inst.callLong(add, 1, 2));
    }
  }

  @Test
  void missingExportIsNotFoundAndListsTheExports() {
    NotFoundException e = assertThrows(NotFoundException.class, () -> numeric.func("nope"));
    assertEquals(ErrorKind.NOT_FOUND, e.kind());
    assertTrue(e.getMessage().contains("add"), e.getMessage());
    assertTrue(numeric.exports().contains("add64"));
  }

  @Test
  void trapsAreTrapExceptionsWithBacktraceAndResetRecovers() {
    try (Instance inst = numeric.instantiate()) {
      TrapException t = assertThrows(TrapException.class, () -> inst.call("trap"));
      assertEquals(ErrorKind.TRAP, t.kind());
      assertNotNull(t.backtrace(), "a trap has a wasm backtrace");
      assertThrows(TrapException.class, () -> inst.callLong("div", 1, 0));
      assertThrows(TrapException.class, () -> inst.callLong("recurse", 0));
      inst.reset();
      assertEquals(1, inst.callLong("count"));
      assertEquals(2, inst.callLong("count"));
      inst.reset();
      assertEquals(1, inst.callLong("count"));
    }
  }

  @Test
  void loadFromBytesAndBadBytes() throws Exception {
    byte[] wat = Files.readAllBytes(Env.fixture("numeric.wat"));
    try (Plugin p = engine.load("numeric-from-bytes", wat); Instance inst = p.instantiate()) {
      assertEquals("numeric-from-bytes", p.name());
      assertEquals(numeric.sha256(), p.sha256());
      assertEquals(42, inst.callLong("add", 40, 2));
    }
    LoadException e = assertThrows(LoadException.class,
        () -> engine.load("junk", "not a plugin".getBytes(StandardCharsets.UTF_8)));
    assertEquals(ErrorKind.LOAD, e.kind());
    assertTrue(e.getMessage().contains("junk"), e.getMessage());
    WasmplugException missing = assertThrows(WasmplugException.class,
        () -> engine.load(Path.of("/nonexistent/x.wasm")));
    assertTrue(missing.kind() == ErrorKind.IO || missing.kind() == ErrorKind.NOT_FOUND, missing.kind().toString());
  }

  @Test
  void bytesAndStringCalls() {
    try (Instance inst = echo.instantiate()) {
      Func f = echo.func("echo");
      assertTrue(f.isBytes());
      byte[] in = new byte[300];
      for (int i = 0; i < in.length; i++) in[i] = (byte) i;
      assertArrayEquals(in, inst.callBytes(f, in));
      assertArrayEquals(new byte[0], inst.callBytes(f, new byte[0]));
      assertEquals("héllo wörld ✓", inst.callString("echo", "héllo wörld ✓"));
      assertEquals("x", inst.callString(f, "x"));
      // a string with NUL cannot cross as a C string
      assertThrows(BadInputException.class, () -> inst.callString("echo", "a\0b"));
      // a lone surrogate is not Unicode
      assertThrows(BadInputException.class, () -> inst.callString("echo", "\ud800"));
    }
  }

  @Test
  void pluginAndAbiErrors() {
    try (Instance inst = echo.instantiate()) {
      PluginException p = assertThrows(PluginException.class, () -> inst.callBytes("fail", new byte[] {1}));
      assertTrue(p.getMessage().contains("bad things"), p.getMessage());
      inst.reset();
      assertEquals(ErrorKind.ABI, assertThrows(AbiException.class, () -> inst.callBytes("bad_output", new byte[0])).kind());
      inst.reset();
      assertThrows(AbiException.class, () -> inst.callBytes("bad_retptr", new byte[0]));
    }
  }

  @Test
  void manifestConfigReachesThePlugin() {
    try (Manifest m = new Manifest().config("greeting", "Howdy");
         Plugin p = engine.load(Env.fixture("echo.wat"), m);
         Instance inst = p.instantiate()) {
      assertEquals("Howdy", m.config("greeting"));
      assertEquals("Howdy", inst.callString("greeting", ""));
    }
    try (Instance inst = echo.instantiate()) {
      assertEquals("", inst.callString("greeting", ""));
    }
  }

  @Test
  void helloPluginGreets() {
    try (Plugin p = engine.load(Env.plugin("hello-c.wasm")); Instance inst = p.instantiate()) {
      assertEquals("Hello, world!", inst.callString("greet", "world"));
      assertArrayEquals("Hello, Java!".getBytes(StandardCharsets.UTF_8),
          inst.callBytes("greet", "Java".getBytes(StandardCharsets.UTF_8)));
    }
  }
}
