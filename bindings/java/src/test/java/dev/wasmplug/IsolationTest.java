package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Plugins in a worker process ($WASMPLUG_WORKER): the same calls, host functions still in Java. */
class IsolationTest {
  @Test
  void isolatedPluginCallsBackIntoJava() {
    String worker = System.getenv("WASMPLUG_WORKER");
    assertNotNull(worker, "$WASMPLUG_WORKER is not set (run bindings/java/test.sh)");
    assertTrue(Files.isExecutable(Path.of(worker)), worker + " is not executable");
    List<String> logs = new CopyOnWriteArrayList<>();
    try (Engine e = Engine.builder().workerPath(Path.of(worker)).logger((l, p, m) -> logs.add(m)).build()) {
      e.defineString("plugin", "call_me", name -> {
        if (name.equals("boom")) throw new IllegalStateException("boom in Java");
        return "Hello " + name + " from pid " + ProcessHandle.current().pid();
      });
      try (Manifest m = new Manifest().isolation(Isolation.PROCESS);
           Plugin cb = e.load(Env.plugin("callback-c.wasm"), m);
           Plugin hello = e.load(Env.plugin("hello-c.wasm"), m);
           Instance i = cb.instantiate();
           Instance h = hello.instantiate()) {
        assertEquals("Hello iso from pid " + ProcessHandle.current().pid(), i.callString("callback", "iso"));
        assertThrows(HostException.class, () -> i.callString("callback", "boom"));
        assertEquals("Hello, world!", h.callString("greet", "world"));
        assertTrue(logs.contains("greeting world"), logs.toString());
      }
    }
  }

  @Test
  void manifestFromAFileWithItsSource(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path json = dir.resolve("numeric.json");
    Files.writeString(json, "{\"name\": \"numbers\", \"sources\": [{\"path\": \""
        + Env.fixture("numeric.wat") + "\"}], \"limits\": {\"fuel\": 1000}}");
    try (Engine e = Env.engine(); Manifest m = Manifest.load(json); Plugin p = e.load(m);
         Instance inst = p.instantiate()) {
      assertEquals("numbers", p.name());
      assertEquals(7, inst.callLong("add", 3, 4));
      assertThrows(OutOfFuelException.class, () -> inst.call("spin"));
    }
    assertThrows(WasmplugException.class, () -> Manifest.load(dir.resolve("missing.json")));
  }
}
