package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LimitsTest {
  static Engine engine;

  @BeforeAll
  static void setUp() {
    engine = Env.engine();
  }

  @AfterAll
  static void tearDown() {
    engine.close();
  }

  private static Plugin numeric(Manifest m) {
    return engine.load(Env.fixture("numeric.wat"), m);
  }

  @Test
  void timeout() {
    try (Manifest m = new Manifest().timeout(Duration.ofMillis(50));
         Plugin p = numeric(m);
         Instance inst = p.instantiate()) {
      long t0 = System.nanoTime();
      WasmplugTimeoutException e = assertThrows(WasmplugTimeoutException.class, () -> inst.call("spin"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(ErrorKind.TIMEOUT, e.kind());
      assertTrue(ms >= 45 && ms < 5000, "stopped after " + ms + " ms");
      inst.reset();
      assertEquals(3, inst.callLong("add", 1, 2));
    }
  }

  @Test
  void fuel() {
    try (Manifest m = new Manifest().fuel(10_000); Plugin p = numeric(m); Instance inst = p.instantiate()) {
      assertEquals(3, inst.callLong("add", 1, 2));
      long used = inst.fuelUsed();
      assertTrue(used > 0 && used < 10_000, "used " + used);
      OutOfFuelException e = assertThrows(OutOfFuelException.class, () -> inst.call("spin"));
      assertEquals(ErrorKind.FUEL, e.kind());
    }
  }

  @Test
  void memoryLimit() {
    try (Manifest m = new Manifest().maxMemory(2 << 20); Plugin p = numeric(m); Instance inst = p.instantiate()) {
      assertEquals(1, inst.callLong("grow", 1)); // 1 page -> 2 pages: the old size
      assertEquals(-1, inst.callLong("grow", 100)); // refused past 2 MiB
      MemoryLimitException e = assertThrows(MemoryLimitException.class, () -> inst.call("bomb"));
      assertEquals(ErrorKind.MEMORY_LIMIT, e.kind());
      assertTrue(inst.memorySize() <= 2 << 20);
    }
  }

  @Test
  void interruptFromAnotherThread() throws Exception {
    try (Plugin p = numeric(null); Instance inst = p.instantiate()) {
      CountDownLatch started = new CountDownLatch(1);
      Thread t = new Thread(() -> {
        started.countDown();
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
        inst.interrupt();
      });
      t.start();
      started.await();
      InterruptedCallException e = assertThrows(InterruptedCallException.class, () -> inst.call("spin"));
      assertEquals(ErrorKind.INTERRUPTED, e.kind());
      t.join();
    }
  }

  @Test
  void badManifestIsBadInput() {
    BadInputException e = assertThrows(BadInputException.class,
        () -> Manifest.parse("{\"limits\": {\"memory\": \"lots\"}}"));
    assertTrue(e.getMessage().contains("memory"), e.getMessage());
    assertThrows(BadInputException.class, () -> Manifest.parse("{\"nope\": 1}"));
    assertThrows(BadInputException.class, () -> new Manifest().env("A=B", "x"));
    try (Manifest m = Manifest.parse("{\"limits\": {\"timeout_ms\": 50}, \"config\": {\"k\": \"v\"}}")) {
      assertEquals("v", m.config("k"));
      assertTrue(m.toJson().contains("timeout_ms"), m.toJson());
    }
  }
}
