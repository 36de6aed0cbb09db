package dev.wasmplug.bench;

import dev.wasmplug.Engine;
import dev.wasmplug.Func;
import dev.wasmplug.Instance;
import dev.wasmplug.Plugin;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The Java side of `make bench-bindings` (protocol in bench/bindings/run.py), mirroring
 * bench/bindings/c_baseline.c through the public API: numeric_call is add(i, 1) of numeric.wat
 * through a Func found once, result checked; bytes_echo_32B is echo of echo.wat with 32 bytes,
 * length checked. Each repetition times `batch` calls after a warm-up long enough for the JIT.
 */
public final class Bench {
  public static void main(String[] args) {
    long batch = 200000;
    int reps = 11;
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (args[i].equals("--batch")) batch = Long.parseLong(args[i + 1]);
      if (args[i].equals("--reps")) reps = Integer.parseInt(args[i + 1]);
    }
    if (batch < 1 || reps < 1) System.exit(2);
    Path fixtures = Path.of(System.getenv("WP_FIXTURES"));
    try (Engine e = Engine.create();
         Plugin num = e.load(fixtures.resolve("numeric.wat"));
         Plugin echo = e.load(fixtures.resolve("echo.wat"));
         Instance numInst = num.instantiate();
         Instance echoInst = echo.instantiate()) {
      Func add = num.func("add");
      Func echoFn = echo.func("echo");
      byte[] in = new byte[32];
      Arrays.fill(in, (byte) 'x');
      long warm = Math.max(batch, 200000);
      // warm-up: let C2 compile both loops
      numeric(numInst, add, warm);
      echo(echoInst, echoFn, in, warm / 2);
      double[] ns = new double[reps];
      for (int r = 0; r < reps; r++) {
        long t0 = System.nanoTime();
        numeric(numInst, add, batch);
        ns[r] = (double) (System.nanoTime() - t0) / batch;
      }
      print("numeric_call", ns);
      for (int r = 0; r < reps; r++) {
        long t0 = System.nanoTime();
        echo(echoInst, echoFn, in, batch);
        ns[r] = (double) (System.nanoTime() - t0) / batch;
      }
      print("bytes_echo_32B", ns);
      System.out.println("calls through " + Engine.callPath() + " on Java " + Runtime.version());
    }
  }

  private static void numeric(Instance inst, Func add, long n) {
    for (long i = 0; i < n; i++) {
      long r = inst.callLong(add, (int) i, 1);
      if (r != (int) i + 1) throw new AssertionError("add(" + i + ", 1) = " + r);
    }
  }

  private static void echo(Instance inst, Func f, byte[] in, long n) {
    for (long i = 0; i < n; i++) {
      if (inst.callBytes(f, in).length != in.length) throw new AssertionError("echo length");
    }
  }

  private static void print(String row, double[] ns) {
    StringBuilder b = new StringBuilder("{\"row\": \"").append(row).append("\", \"ns\": [");
    for (int i = 0; i < ns.length; i++) b.append(i > 0 ? ", " : "").append(String.format("%.2f", ns[i]));
    System.out.println(b.append("]}"));
  }
}
