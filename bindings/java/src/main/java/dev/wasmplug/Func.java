package dev.wasmplug;

import java.util.Arrays;
import java.util.List;

/**
 * A handle on an exported function, found once ({@link Plugin#func}) and valid for every instance
 * of its plugin: calls through it skip the name lookup.
 */
public final class Func {
  final Plugin plugin;
  final int id;
  final String name;
  final ValType[] params, results;
  final int[] paramCodes;
  final boolean numeric, bytes;
  final long functype;

  Func(Plugin plugin, int id, String name, ValType[] params, ValType[] results, boolean numeric,
      boolean bytes, long functype) {
    this.plugin = plugin;
    this.id = id;
    this.name = name;
    this.params = params;
    this.results = results;
    this.numeric = numeric;
    this.bytes = bytes;
    this.functype = functype;
    this.paramCodes = new int[params == null ? 0 : params.length];
    for (int i = 0; i < paramCodes.length; i++) paramCodes[i] = params[i].ordinal();
  }

  public String name() {
    return name;
  }

  public Plugin plugin() {
    return plugin;
  }

  /** Core modules: the parameter types (empty for components). */
  public List<ValType> params() {
    return params == null ? List.of() : List.copyOf(Arrays.asList(params));
  }

  /** Core modules: the result types (empty for components). */
  public List<ValType> results() {
    return results == null ? List.of() : List.copyOf(Arrays.asList(results));
  }

  /** Whether {@link Instance#callBytes} and {@link Instance#callString} can call it. */
  public boolean isBytes() {
    return bytes;
  }

  /** Components: the WIT type, e.g. "func(name: string) -> string"; null for core modules. */
  public String witType() {
    return functype == 0 ? null : Util.str(Lib.wp_functype_to_string(functype));
  }

  @Override
  public String toString() {
    return "Func(" + name + ")";
  }
}
