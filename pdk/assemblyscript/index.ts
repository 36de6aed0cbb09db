// wasmplug-pdk: everything an AssemblyScript plugin for wasmplug needs.
//
// A plugin is a core module that speaks the bytes ABI (docs/abi.md): each
// export takes bytes and returns bytes. This module implements the guest
// side: the allocator `cabi_realloc` the host places inputs with, the
// wrapper that turns an export's (ptr, len) into a Uint8Array or a string and
// its result into the return area, the `wasmplug` imports (log, config_get,
// error), calls to the embedder's bytes host functions, and an abort handler
// that logs why the plugin trapped.
//
// A complete plugin (assembly/index.ts of a project):
//
//   import { handleString, post, log, LogLevel } from "wasmplug-pdk";
//   export { cabi_realloc } from "wasmplug-pdk";   // the host needs it
//
//   export function greet(ptr: usize, len: usize): usize {
//     return handleString(ptr, len, (name: string): string => {
//       log(LogLevel.Info, "greeting " + name);
//       return "Hello, " + name + "!";
//     });
//   }
//   export function cabi_post_greet(ret: usize): void { post(ret); }
//
// built with (see README.md for why each flag):
//
//   asc assembly/index.ts -o plugin.wasm -O3 --exportStart _initialize \
//       --use abort=~lib/wasmplug-pdk/index/onAbort
//
// Memory: buffers exchanged with the host are raw blocks of AssemblyScript's
// heap (heap.alloc / heap.free), outside the garbage collector; a handler
// only ever sees managed Uint8Arrays and strings.

// ---------------------------------------------------------------------------
// Host imports: module "wasmplug" (docs/abi.md)
// ---------------------------------------------------------------------------

@external("wasmplug", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;

@external("wasmplug", "config_get")
declare function hostConfigGet(keyPtr: usize, keyLen: usize, retptr: usize): void;

@external("wasmplug", "error")
declare function hostError(ptr: usize, len: usize): void;

/** Log levels: the `level` argument of wasmplug.log. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** Logs `message` (sent as UTF-8) at `level` through the host's log callback. */
export function log(level: LogLevel, message: string): void {
  const utf8 = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(utf8), <usize>utf8.byteLength);
}

/** Logs raw bytes (UTF-8 is expected, not checked) at `level`. */
export function logBytes(level: LogLevel, message: Uint8Array): void {
  hostLog(level, message.dataStart, <usize>message.length);
}

/**
 * Marks the running call as failed with `message` (wasmplug.error). The
 * handler still returns normally; the host then drops its output and the
 * caller gets WP_ERR_PLUGIN with this message. Called more than once, the
 * last message wins.
 */
export function fail(message: string): void {
  const utf8 = String.UTF8.encode(message);
  hostError(changetype<usize>(utf8), <usize>utf8.byteLength);
}

/** config_get's 12-byte, 4-aligned return area: option<string>. */
const configRet: usize = memory.data(12, 4);

/**
 * The value of config key `key` from the plugin's manifest, or null when it
 * is not set. Invalid UTF-8 in the value (the host sends UTF-8) becomes U+FFFD.
 */
export function configGet(key: string): string | null {
  const utf8 = String.UTF8.encode(key);
  store<u32>(configRet, 0);
  store<u32>(configRet, 0, 4);
  store<u32>(configRet, 0, 8);
  hostConfigGet(changetype<usize>(utf8), <usize>utf8.byteLength, configRet);
  if (load<u8>(configRet) == 0) return null;
  const ptr = <usize>load<u32>(configRet, 4);
  const len = <usize>load<u32>(configRet, 8);
  const value = String.UTF8.decodeUnsafe(ptr, len);
  freeHostBlock(ptr); // allocated by the host with cabi_realloc: ours now
  return value;
}

// ---------------------------------------------------------------------------
// cabi_realloc
// ---------------------------------------------------------------------------

/** Frees a block the host allocated with cabi_realloc (0: none). */
function freeHostBlock(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

/** The alignment every block of AssemblyScript's heap has. */
const HEAP_ALIGN: usize = 16;

/**
 * The canonical ABI allocator; a plugin must export it from its entry file
 * (`export { cabi_realloc } from "wasmplug-pdk"`). The host calls it as
 * cabi_realloc(0, 0, 1, len) to place inputs, config values and host
 * function outputs. Blocks come from heap.alloc (16-aligned, never 0, also
 * for len 0); an alignment above 16 or exhausted memory traps, as the
 * canonical ABI requires.
 */
export function cabi_realloc(oldPtr: usize, oldLen: usize, align: usize, newLen: usize): usize {
  if (align > HEAP_ALIGN) unreachable();
  if (oldPtr == 0) return heap.alloc(newLen);
  return heap.realloc(oldPtr, newLen);
}

// ---------------------------------------------------------------------------
// Bytes exports
// ---------------------------------------------------------------------------

/** The return area of bytes exports: [out_ptr, out_len], 8 bytes, 8-aligned. */
const retArea: usize = memory.data(8, 8);

/** The last export's output (a heap block, 0 when none) until cabi_post or the next call. */
let pendingOut: usize = 0;

/** Frees the pending output, if any, and points the return area at an empty output. */
function dropOutput(): void {
  if (pendingOut != 0) heap.free(pendingOut);
  pendingOut = 0;
  // An empty output still needs an address inside memory: the area itself.
  store<u32>(retArea, <u32>retArea);
  store<u32>(retArea, 0, 4);
}

/** Sets the return area to `len` bytes at the heap block `block` (ours until cabi_post). */
function setOutput(block: usize, len: usize): usize {
  if (len == 0) {
    heap.free(block);
  } else {
    pendingOut = block;
    store<u32>(retArea, <u32>block);
    store<u32>(retArea, <u32>len, 4);
  }
  return retArea;
}

/** Copies `len` bytes at `ptr` into a new heap block (0 when len is 0). */
function copyToHeap(ptr: usize, len: usize): usize {
  if (len == 0) return 0;
  const block = heap.alloc(len);
  memory.copy(block, ptr, len);
  return block;
}

/**
 * Implements a bytes export around `handler`: the export function passes
 * its two parameters on and returns what this returns,
 *
 *   export function echo(ptr: usize, len: usize): usize {
 *     return handleBytes(ptr, len, (input: Uint8Array): Uint8Array => input);
 *   }
 *
 * The handler owns its input (a copy; the host's buffer is freed) and may
 * keep it. Its result is copied out for the host; to fail the call, call
 * fail(message) and return anything (the host drops it). An abort (throw,
 * failed assert, out of memory) traps: the caller gets WP_ERR_TRAP.
 */
export function handleBytes(ptr: usize, len: usize, handler: (input: Uint8Array) => Uint8Array): usize {
  dropOutput();
  const input = new Uint8Array(<i32>len);
  memory.copy(input.dataStart, ptr, len);
  freeHostBlock(ptr);
  const out = handler(input);
  return setOutput(copyToHeap(out.dataStart, <usize>out.length), <usize>out.length);
}

/**
 * As handleBytes for text: the input is decoded as UTF-8 (invalid sequences
 * become U+FFFD) and the result is sent as UTF-8.
 */
export function handleString(ptr: usize, len: usize, handler: (input: string) => string): usize {
  dropOutput();
  const input = String.UTF8.decodeUnsafe(ptr, len);
  freeHostBlock(ptr);
  const out = handler(input);
  const outLen = <usize>String.UTF8.byteLength(out);
  if (outLen == 0) return retArea;
  const block = heap.alloc(outLen);
  String.UTF8.encodeUnsafe(changetype<usize>(out), out.length, block);
  return setOutput(block, outLen);
}

/**
 * The body of an optional `cabi_post_<name>` export: frees the output once
 * the host has copied it out, rather than at the next call.
 *
 *   export function cabi_post_echo(ret: usize): void { post(ret); }
 */
export function post(ret: usize): void {
  if (ret != retArea) return; // not ours: nothing to free
  dropOutput();
  store<u32>(retArea, 0);
}

// ---------------------------------------------------------------------------
// Bytes host functions of the embedder
// ---------------------------------------------------------------------------

/**
 * The shape of a bytes host function's import, (ptr, len, retptr) -> ().
 * Declare each one with its module and name, exactly so:
 *
 *   @external("plugin", "call_me")
 *   declare function callMe(ptr: usize, len: usize, retptr: usize): void;
 *
 * and call it with callBytes(callMe, ...) or callString(callMe, ...).
 */
export type BytesImport = (ptr: usize, len: usize, retptr: usize) => void;

/** The 8-byte, 4-aligned return area of host function calls. */
const callRet: usize = memory.data(8, 8);

/** Calls `fn` with `len` bytes at `ptr` and returns the host's heap block and its length. */
function callRaw(fn: BytesImport, ptr: usize, len: usize): usize {
  store<u32>(callRet, 0);
  store<u32>(callRet, 0, 4);
  fn(len == 0 ? callRet : ptr, len, callRet); // empty input: any valid address
  return callRet;
}

/**
 * Calls the bytes host function `fn` with `input` and returns its output.
 * If the host function fails, the plugin's whole call traps (the caller gets
 * the host function's error) and this never returns.
 */
export function callBytes(fn: BytesImport, input: Uint8Array): Uint8Array {
  const ret = callRaw(fn, input.dataStart, <usize>input.length);
  const ptr = <usize>load<u32>(ret);
  const len = <usize>load<u32>(ret, 4);
  const out = new Uint8Array(<i32>len);
  memory.copy(out.dataStart, ptr, len);
  freeHostBlock(ptr); // allocated by the host with cabi_realloc, also when empty
  return out;
}

/** As callBytes for text (UTF-8 both ways; invalid output becomes U+FFFD). */
export function callString(fn: BytesImport, input: string): string {
  const utf8 = String.UTF8.encode(input);
  const ret = callRaw(fn, changetype<usize>(utf8), <usize>utf8.byteLength);
  const ptr = <usize>load<u32>(ret);
  const len = <usize>load<u32>(ret, 4);
  const out = String.UTF8.decodeUnsafe(ptr, len);
  freeHostBlock(ptr);
  return out;
}

// ---------------------------------------------------------------------------
// abort
// ---------------------------------------------------------------------------

/**
 * The abort handler (`--use abort=~lib/wasmplug-pdk/index/onAbort`):
 * what AssemblyScript calls on throw, a failed assert or running out of
 * memory. Logs "abort: <message> (<file>:<line>:<column>)" at error level and
 * traps; the caller gets WP_ERR_TRAP. Without the flag, AssemblyScript would
 * import env.abort, which a wasmplug host does not offer.
 */
export function onAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  // Building the text allocates: an abort while aborting (out of memory)
  // traps at once instead of recursing.
  if (aborting) unreachable();
  aborting = true;
  let text = "abort: " + (message !== null ? changetype<string>(message) : "(no message)");
  if (fileName !== null) {
    text += " (" + changetype<string>(fileName) + ":" + line.toString() + ":" + column.toString() + ")";
  }
  log(LogLevel.Error, text);
  unreachable();
}

/** Set while onAbort runs. After a trap the host throws the instance away. */
let aborting = false;
