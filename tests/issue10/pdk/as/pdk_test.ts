// pdk_test.ts: a plugin that exercises every part of the AssemblyScript PDK
// (pdk/assemblyscript) for tests/issue10/test_pdk.c.
import {
  callBytes, callString, configGet, fail, handleBytes, handleString, log, logBytes, LogLevel, post,
} from "wasmplug-pdk";

export { cabi_realloc } from "wasmplug-pdk";

@external("plugin", "call_me")
declare function callMe(ptr: usize, len: usize, retptr: usize): void;

// echo: bytes in, the same bytes out (binary safe), freed by cabi_post_echo.
export function echo(ptr: usize, len: usize): usize {
  return handleBytes(ptr, len, (input: Uint8Array): Uint8Array => input);
}
export function cabi_post_echo(ret: usize): void { post(ret); }

// echo_nopost: the same without a cabi_post: the PDK frees the output at the next call.
export function echo_nopost(ptr: usize, len: usize): usize {
  return handleBytes(ptr, len, (input: Uint8Array): Uint8Array => input);
}

// shout: text in, upper-case text out (UTF-8 both ways), and its length in
// UTF-16 code units after a '/': "grüße ✓" gives "GRÜSSE ✓/8".
export function shout(ptr: usize, len: usize): usize {
  return handleString(ptr, len, (s: string): string => {
    const up = s.toUpperCase();
    return up + "/" + up.length.toString();
  });
}

// config: the value of the config key named by the input, or fails "<key> is not set".
export function config(ptr: usize, len: usize): usize {
  return handleString(ptr, len, (key: string): string => {
    const value = configGet(key);
    if (value === null) {
      fail(key + " is not set");
      return "unused";
    }
    return value;
  });
}

// fail_with: fails the call with the input as its message (the output is dropped).
export function fail_with(ptr: usize, len: usize): usize {
  return handleString(ptr, len, (msg: string): string => {
    fail("first message");
    fail(msg); // the last one wins
    return "dropped";
  });
}

// abort_with: throws an Error with the input as its message: a trap.
export function abort_with(ptr: usize, len: usize): usize {
  return handleString(ptr, len, (msg: string): string => {
    throw new Error(msg);
  });
}

// log_all: logs the input at every level, text and raw bytes, and returns "logged".
export function log_all(ptr: usize, len: usize): usize {
  return handleBytes(ptr, len, (input: Uint8Array): Uint8Array => {
    const text = String.UTF8.decode(input.buffer);
    log(LogLevel.Trace, "trace " + text);
    log(LogLevel.Debug, "debug " + text);
    log(LogLevel.Info, "info " + text);
    log(LogLevel.Warn, "warn " + text);
    logBytes(LogLevel.Error, input);
    return Uint8Array.wrap(String.UTF8.encode("logged"));
  });
}

// call_twice: calls the host's call_me with the input as bytes and as a
// string (empty input included) and joins both answers with '|'.
export function call_twice(ptr: usize, len: usize): usize {
  return handleBytes(ptr, len, (input: Uint8Array): Uint8Array => {
    const a = String.UTF8.decode(callBytes(callMe, input).buffer);
    const b = callString(callMe, String.UTF8.decode(input.buffer));
    return Uint8Array.wrap(String.UTF8.encode(a + "|" + b));
  });
}

// add: a plain numeric export beside the bytes ones.
export function add(a: i32, b: i32): i32 {
  return a + b;
}
