;; The Extism guest of `make bench-peers` (bench/peers/run.py): what a C or
;; Rust PDK plugin does, written out so the figures hold no PDK overhead.
;; Extism's kernel ("extism:host/env", a wasm module linked beside this one)
;; owns the input and output blocks in its own memory, so a plugin copies
;; its input in (input_load_u64/u8) and its output out (alloc, store_u64/u8,
;; output_set), 8 bytes per call, with calls that stay inside wasm.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u64" (func $store_u64 (param i64 i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
  ;; the host function the harness defines with extism's host_fn! macro
  (import "extism:host/user" "hnop" (func $hnop))
  (memory (export "memory") 2)

  ;; minimal call: no input read, no output
  (func (export "nop") (result i32) i32.const 0)

  ;; echo: input -> guest memory at 1024 -> a new output block
  (func (export "echo") (result i32)
    (local $len i64) (local $i i64) (local $out i64)
    (local.set $len (call $input_length))
    (local.set $i (i64.const 0))
    (block $done
      (loop $in
        (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
        (i64.store (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i)))
                   (call $input_load_u64 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $in)))
    (block $done
      (loop $in
        (br_if $done (i64.ge_u (local.get $i) (local.get $len)))
        (i32.store8 (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i)))
                    (call $input_load_u8 (local.get $i)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $in)))
    (local.set $out (call $alloc (local.get $len)))
    (local.set $i (i64.const 0))
    (block $done
      (loop $o
        (br_if $done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $len)))
        (call $store_u64 (i64.add (local.get $out) (local.get $i))
                         (i64.load (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i)))))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $o)))
    (block $done
      (loop $o
        (br_if $done (i64.ge_u (local.get $i) (local.get $len)))
        (call $store_u8 (i64.add (local.get $out) (local.get $i))
                        (i32.load8_u (i32.add (i32.const 1024) (i32.wrap_i64 (local.get $i)))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $o)))
    (call $output_set (local.get $out) (local.get $len))
    i32.const 0)

  ;; call_host: the input is n (u64, little endian); calls the host n times
  (func (export "call_host") (result i32)
    (local $n i64)
    (local.set $n (call $input_load_u64 (i64.const 0)))
    (block $done
      (loop $l
        (br_if $done (i64.eqz (local.get $n)))
        (call $hnop)
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $l)))
    i32.const 0))
