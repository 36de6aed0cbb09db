package dev.wasmplug;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.jna.Callback;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LogAndThreadsTest {
  record Line(LogLevel level, String plugin, String message, String thread) {}

  @Test
  void logCallbackGetsPluginLogs() {
    List<Line> lines = new CopyOnWriteArrayList<>();
    try (Engine e = Engine.builder()
            .logger((lvl, plugin, msg) -> lines.add(new Line(lvl, plugin, msg, Thread.currentThread().getName())))
            .build();
         Plugin p = e.load(Env.fixture("echo.wat"));
         Instance inst = p.instantiate()) {
      inst.callBytes("echo", new byte[] {1, 2});
      assertEquals(1, lines.size());
      assertEquals(LogLevel.INFO, lines.get(0).level());
      assertEquals("echoing", lines.get(0).message());
      assertEquals("echo.wat", lines.get(0).plugin());
      // a plugin pointing its log outside memory is an ABI error, not a crash
      assertThrows(AbiException.class, () -> inst.callBytes("bad_log", new byte[0]));
    }
  }

  @Test
  void aThrowingLogHandlerDoesNotBreakTheCall() {
    try (Engine e = Engine.builder().logger((l, p, m) -> {
          throw new RuntimeException("boom");
        }).build();
         Plugin p = e.load(Env.fixture("echo.wat"));
         Instance inst = p.instantiate()) {
      assertArrayEquals(new byte[] {7}, inst.callBytes("echo", new byte[] {7}));
    }
  }

  @Test
  void poolFromManyThreadsWithHostFunctionAndLog() throws Exception {
    Set<String> logThreads = ConcurrentHashMap.newKeySet();
    Set<String> hostThreads = ConcurrentHashMap.newKeySet();
    try (Engine e = Engine.builder().logger((l, p, m) -> logThreads.add(Thread.currentThread().getName())).build()) {
      e.defineString("plugin", "call_me", name -> {
        hostThreads.add(Thread.currentThread().getName());
        return "Hello " + name;
      });
      try (Plugin cb = e.load(Env.plugin("callback-c.wasm"));
           Plugin echo = e.load(Env.fixture("echo.wat"));
           Pool cbPool = cb.pool(0, 4);
           Pool echoPool = echo.pool(0, 4)) {
        ExecutorService ex = Executors.newFixedThreadPool(4);
        try {
          List<Future<?>> fs = new ArrayList<>();
          for (int t = 0; t < 4; t++) {
            final int id = t;
            fs.add(ex.submit(() -> {
              for (int i = 0; i < 200; i++) {
                String name = "t" + id + "-" + i;
                assertEquals("Hello " + name, cbPool.with(inst -> inst.callString("callback", name)));
                byte[] in = name.getBytes();
                assertArrayEquals(in, echoPool.with(inst -> inst.callBytes("echo", in)));
              }
              return null;
            }));
          }
          for (Future<?> f : fs) f.get();
        } finally {
          ex.shutdown();
        }
        assertTrue(cbPool.idle() >= 1 && cbPool.idle() <= 4, "idle " + cbPool.idle());
      }
    }
    assertTrue(hostThreads.size() >= 2, "host function ran on " + hostThreads);
    assertTrue(logThreads.size() >= 2, "log callback ran on " + logThreads);
  }

  @Test
  void oneInstanceSharedByThreadsIsSerialized() throws Exception {
    try (Engine e = Env.engine(); Plugin p = e.load(Env.fixture("numeric.wat")); Instance inst = p.instantiate()) {
      Func count = p.func("count");
      Thread[] ts = new Thread[4];
      for (int t = 0; t < ts.length; t++) {
        ts[t] = new Thread(() -> {
          for (int i = 0; i < 1000; i++) inst.callLong(count);
        });
        ts[t].start();
      }
      for (Thread t : ts) t.join();
      assertEquals(4001, inst.callLong(count));
    }
  }

  /** pthread_create, to run Java on a thread that C made. */
  public interface StartRoutine extends Callback {
    Pointer run(Pointer arg);
  }

  static {
    Native.register(LogAndThreadsTest.class, "c");
  }

  static native int pthread_create(long[] thread, Pointer attr, StartRoutine start, Pointer arg);

  static native int pthread_join(long thread, Pointer ret);

  @Test
  void callbacksOnAThreadThatCMade() throws Exception {
    List<String> logs = new CopyOnWriteArrayList<>();
    AtomicReference<Object> outcome = new AtomicReference<>();
    try (Engine e = Engine.builder().logger((l, p, m) -> logs.add(m)).build()) {
      e.defineString("plugin", "call_me", name -> "Hello " + name);
      try (Plugin cb = e.load(Env.plugin("callback-c.wasm")); Plugin echo = e.load(Env.fixture("echo.wat"));
           Pool pool = cb.pool(0, 2)) {
        StartRoutine body = arg -> {
          try {
            String a = pool.with(inst -> inst.callString("callback", "native"));
            try (Instance inst = echo.instantiate()) {
              inst.callBytes("echo", new byte[] {1});
            }
            outcome.set(a + " on " + Thread.currentThread().getName());
          } catch (Throwable t) {
            outcome.set(t);
          }
          return null;
        };
        // as the binding's own callbacks: the thread stays attached until it exits
        Native.setCallbackThreadInitializer(body, new com.sun.jna.CallbackThreadInitializer(true, false, "made-by-c"));
        long[] tid = new long[1];
        assertEquals(0, pthread_create(tid, null, body, null));
        assertEquals(0, pthread_join(tid[0], null));
        Object o = outcome.get();
        if (o instanceof Throwable) throw new AssertionError("failed on the native thread", (Throwable) o);
        assertNotNull(o, "the native thread ran");
        assertEquals("Hello native on made-by-c", o);
        assertEquals(List.of("echoing"), logs);
      }
    }
  }
}
