package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class LifecycleTest {
  @Test
  void closeInAnyOrderAndTwice() {
    Engine e = Env.engine();
    Plugin p = e.load(Env.fixture("numeric.wat"));
    Instance inst = p.instantiate();
    Pool pool = p.pool(0, 2);
    Func add = p.func("add");
    // the engine and the plugin go first: the instance and pool hold their own references
    e.close();
    e.close();
    p.close();
    p.close();
    assertEquals(3, inst.callLong(add, 1, 2));
    assertEquals(5, (long) pool.with(i -> i.callLong(add, 2, 3)));
    inst.close();
    inst.close();
    pool.close();
    pool.close();
    assertThrows(IllegalStateException.class, () -> inst.callLong(add, 1, 2));
    assertThrows(IllegalStateException.class, p::instantiate);
    assertThrows(IllegalStateException.class, () -> e.load(Env.fixture("numeric.wat")));
    assertThrows(IllegalStateException.class, pool::take);
    inst.interrupt(); // a no-op once closed
  }

  @Test
  void poolClosedWhileInstancesAreTakenIsFreedWhenTheyComeBack() {
    try (Engine e = Env.engine(); Plugin p = e.load(Env.fixture("numeric.wat"))) {
      Pool pool = p.pool(0, 2);
      Instance a = pool.take();
      Instance b = pool.take();
      pool.close();
      assertEquals(2, a.callLong("add", 1, 1));
      a.close();
      assertEquals(4, b.callLong("add", 2, 2));
      b.close();
      b.close();
      assertEquals(0, pool.idle());
    }
  }

  @Test
  void poolReusesInstancesAndDropsFailedOnes() {
    try (Engine e = Env.engine(); Plugin p = e.load(Env.fixture("numeric.wat")); Pool reuse = p.pool(0, 1);
         Pool fresh = p.pool(1, 1)) {
      assertEquals(1L, (long) reuse.with(i -> i.callLong("count")));
      assertEquals(2L, (long) reuse.with(i -> i.callLong("count")));
      assertEquals(1, reuse.idle());
      // a failed call: that instance is never handed out again
      assertThrows(TrapException.class, () -> reuse.with(i -> i.call("trap")));
      assertEquals(1L, (long) reuse.with(i -> i.callLong("count")));
      assertEquals(1L, (long) fresh.with(i -> i.callLong("count")));
      assertEquals(1L, (long) fresh.with(i -> i.callLong("count")));
    }
  }

  @Test
  void hostFunctionsAndLogHandlersAreReleasedWithTheEngine() {
    int before = Callbacks.registered();
    Engine e = Engine.builder().logger((l, p, m) -> {}).build();
    e.defineString("plugin", "call_me", s -> s);
    e.defineBytes("x", "y", b -> b);
    assertEquals(before + 3, Callbacks.registered());
    Plugin p = e.load(Env.plugin("callback-c.wasm"));
    e.close();
    assertEquals(before + 3, Callbacks.registered(), "the plugin still uses them");
    Instance i = p.instantiate();
    p.close();
    assertEquals("Hello", i.callString("callback", "Hello"));
    i.close();
    assertEquals(before, Callbacks.registered());
  }

  @Test
  void forgottenHandlesAreFreedByTheCleaner() throws Exception {
    int before = Callbacks.registered();
    for (int k = 0; k < 3; k++) {
      Engine e = Engine.builder().logger((l, p, m) -> {}).build();
      Plugin p = e.load(Env.fixture("numeric.wat"));
      p.instantiate().callLong("add", 1, 2);
      p.pool(0, 1).take();
    }
    for (int k = 0; k < 50 && Callbacks.registered() > before; k++) {
      System.gc();
      Thread.sleep(20);
    }
    assertEquals(before, Callbacks.registered());
  }
}
