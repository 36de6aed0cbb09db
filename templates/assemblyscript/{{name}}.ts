// {{name}}: a wasmplug plugin in AssemblyScript, a core module using the bytes ABI.
//
// It exports greet: input "world" gives "Hello, world!". The manifest's config
// key "greeting" replaces "Hello" (wasmplug call ... --config greeting=Howdy).
import { configGet, handleString, post } from "wasmplug-pdk";

// The host places inputs with the PDK's allocator: every plugin exports it.
export { cabi_realloc } from "wasmplug-pdk";

function greetName(name: string): string {
  const greeting = configGet("greeting");
  return (greeting !== null ? greeting : "Hello") + ", " + name + "!";
}

export function greet(ptr: usize, len: usize): usize {
  return handleString(ptr, len, greetName);
}

export function cabi_post_greet(ret: usize): void {
  post(ret);
}
