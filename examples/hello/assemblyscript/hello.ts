// hello: the smallest useful wasmplug plugin in AssemblyScript.
//
// Exports `greet` (bytes ABI): input "world" gives "Hello, world!". The
// manifest's config key `greeting` replaces "Hello" (greeting=Howdy gives
// "Howdy, world!"). Logs "greeting <input>" at info level.
//
// Build (from the repository root; `asc` is the pinned AssemblyScript
// compiler, `wasmplug tools path asc` after an install):
//   asc examples/hello/assemblyscript/hello.ts -o hello.wasm -O3 --path <dir> \
//       --exportStart _initialize --use abort=~lib/wasmplug-pdk/index/onAbort
// where <dir>/wasmplug-pdk is pdk/assemblyscript (pdk/assemblyscript/README.md).
import { configGet, handleString, log, LogLevel, post } from "wasmplug-pdk";

// The host places inputs with the PDK's allocator: every plugin exports it.
export { cabi_realloc } from "wasmplug-pdk";

function greetName(name: string): string {
  log(LogLevel.Info, "greeting " + name);
  const configured = configGet("greeting"); // null when not set
  const greeting = configured !== null ? configured : "Hello";
  return greeting + ", " + name + "!";
}

export function greet(ptr: usize, len: usize): usize {
  return handleString(ptr, len, greetName);
}

// Frees the output once the host has copied it (as the C plugin does).
export function cabi_post_greet(ret: usize): void {
  post(ret);
}
