package dev.wasmplug;

/** The numeric WebAssembly value types ({@code wp_valkind}). */
public enum ValType {
  I32, I64, F32, F64;

  static ValType of(int c) {
    return values()[c];
  }
}
