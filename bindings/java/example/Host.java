/*
 * Host.java - a complete Java program embedding wasmplug, as examples/host/host.c.
 *
 *   java -Djna.library.path=$WASMPLUG_PREFIX/lib -cp wasmplug.jar:jna.jar example/Host.java \
 *       PLUGIN EXPORT [INPUT]
 *
 * Loads PLUGIN, offers it the host function plugin.call_me(name) -> string (which the callback
 * examples import), prints what the plugin logs, calls the bytes export EXPORT with INPUT and
 * prints the result.
 */
import dev.wasmplug.Engine;
import dev.wasmplug.Instance;
import dev.wasmplug.Manifest;
import dev.wasmplug.Plugin;
import dev.wasmplug.WasmplugException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

public class Host {
  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: Host PLUGIN EXPORT [INPUT]");
      System.exit(2);
    }
    String input = args.length > 2 ? args[2] : "";
    // One engine per process; plugin logs go to stderr.
    try (Engine engine = Engine.builder()
            .logger((level, plugin, msg) -> System.err.printf("  [%s] %s: %s%n",
                level.name().toLowerCase(), plugin, msg))
            .build()) {
      // Host functions are defined before the plugins that import them load.
      engine.defineString("plugin", "call_me", name -> {
        if (name.getBytes(StandardCharsets.UTF_8).length > 200) {
          throw new IllegalArgumentException("call_me: name longer than 200 bytes");
        }
        return "Hello " + name;
      });
      // Deny by default, plus a time and memory limit.
      try (Manifest manifest = new Manifest().timeout(Duration.ofSeconds(1)).maxMemory(64 << 20);
           Plugin plugin = engine.load(Path.of(args[0]), manifest);
           Instance inst = plugin.instantiate()) {
        System.out.println(inst.callString(args[1], input));
      }
    } catch (WasmplugException e) {
      System.err.printf("error (%s): %s%n", e.kind().label(), e.getMessage());
      if (e.backtrace() != null) System.err.println(e.backtrace());
      System.exit(1);
    }
  }
}
