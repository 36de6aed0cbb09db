// callback: a wasmplug plugin in AssemblyScript that calls back into its host.
//
// Exports `callback` (bytes ABI): calls the embedder's bytes host function
// `call_me(name) -> string`, imported from module "plugin", with its input
// ("Nic" when the input is empty) and returns the host's answer unchanged.
//
// Build: as examples/hello/assemblyscript/hello.ts.
import { callBytes, handleBytes, post } from "wasmplug-pdk";

export { cabi_realloc } from "wasmplug-pdk";

// The host function: bytes ABI import (ptr, len, retptr) -> ().
@external("plugin", "call_me")
declare function callMe(ptr: usize, len: usize, retptr: usize): void;

function answer(name: Uint8Array): Uint8Array {
  if (name.length == 0) name = Uint8Array.wrap(String.UTF8.encode("Nic"));
  return callBytes(callMe, name);
}

export function callback(ptr: usize, len: usize): usize {
  return handleBytes(ptr, len, answer);
}

export function cabi_post_callback(ret: usize): void {
  post(ret);
}
