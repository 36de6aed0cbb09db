;; abi.wat - the guest of fuzz_abi.c: a plugin whose side of the bytes ABI is
;; chosen by the fuzz input, to attack the host from inside the sandbox.
;;
;; setup(mode, value, post) picks what cabi_realloc returns (mode 0: a real
;; bump allocation; 1: always `value`; 2: `value` once, then real; 3: trap)
;; and whether cabi_post_run traps (post != 0).
;;
;; run(ptr, len) interprets its input as up to 32 instructions of 13 bytes,
;; [op: u8][a: u32][b: u32][c: u32] (little-endian), op taken modulo 12:
;;   0 wasmplug.log(level a, ptr b, len c)
;;   1 wasmplug.config_get(key ptr a, key len b, return area c)
;;   2 fuzz.bytes(ptr a, len b, return area c)     (host: input twice over)
;;   3 fuzz.string(ptr a, len b, return area c)    (host: echo, UTF-8 checked)
;;   4 wasmplug.error(ptr a, len b)
;;   5 store the u32 b at address a
;;   6 memory.grow by a % 4 pages
;;   7 setup(a, b, post unchanged) from inside the call
;;   8 trap
;;   9 return a as the return-area pointer
;;  10 write [ptr b, len c] at a and return a
;;  11 nothing
;; Falling off the end returns its input: [ptr, len] at address 0.
;;
;; ping(ptr, len) echoes its input; the harness uses it to check that the
;; instance still works after whatever run did.
(module
  (import "wasmplug" "log" (func $log (param i32 i32 i32)))
  (import "wasmplug" "config_get" (func $config_get (param i32 i32 i32)))
  (import "wasmplug" "error" (func $error (param i32 i32)))
  (import "fuzz" "bytes" (func $host_bytes (param i32 i32 i32)))
  (import "fuzz" "string" (func $host_string (param i32 i32 i32)))
  (memory (export "memory") 1 16)
  (global $heap (mut i32) (i32.const 1024))
  (global $mode (mut i32) (i32.const 0))
  (global $value (mut i32) (i32.const 0))
  (global $post_trap (mut i32) (i32.const 0))

  ;; 8-aligned bump allocation, growing memory as needed; traps when it cannot.
  (func $bump (param $size i32) (result i32)
    (local $p i32) (local $end i64)
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $end (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $size))))
    (if (i64.gt_u (local.get $end) (i64.const 0x100000)) (then unreachable))
    (if (i64.gt_u (local.get $end) (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
      (then
        (if (i32.eq (memory.grow (i32.sub
                      (i32.wrap_i64 (i64.shr_u (i64.add (local.get $end) (i64.const 0xffff)) (i64.const 16)))
                      (memory.size)))
                    (i32.const -1))
          (then unreachable))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $p))

  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (block $real
      (block $trap
        (block $once
          (block $always
            (br_table $real $always $once $trap (i32.and (global.get $mode) (i32.const 3))))
          (return (global.get $value)))
        (global.set $mode (i32.const 0))
        (return (global.get $value)))
      unreachable)
    (call $bump (local.get 3)))

  (func $setup (export "setup") (param $mode i32) (param $value i32) (param $post i32)
    (global.set $mode (local.get $mode))
    (global.set $value (local.get $value))
    (global.set $post_trap (local.get $post))
    (global.set $heap (i32.const 1024)))

  (func (export "ping") (param $ptr i32) (param $len i32) (result i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (i32.const 0))

  (func (export "cabi_post_run") (param i32)
    (if (global.get $post_trap) (then unreachable))
    (global.set $heap (i32.const 1024)))

  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $at i32) (local $count i32) (local $a i32) (local $b i32) (local $c i32)
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $at) (i32.const 13)) (local.get $len)))
        (br_if $done (i32.ge_u (local.get $count) (i32.const 32)))
        (local.set $a (i32.load offset=1 (i32.add (local.get $ptr) (local.get $at))))
        (local.set $b (i32.load offset=5 (i32.add (local.get $ptr) (local.get $at))))
        (local.set $c (i32.load offset=9 (i32.add (local.get $ptr) (local.get $at))))
        (block $continue
          (block $op11 (block $op10 (block $op9 (block $op8 (block $op7 (block $op6
          (block $op5 (block $op4 (block $op3 (block $op2 (block $op1 (block $op0
            (br_table $op0 $op1 $op2 $op3 $op4 $op5 $op6 $op7 $op8 $op9 $op10 $op11
              (i32.rem_u (i32.load8_u (i32.add (local.get $ptr) (local.get $at))) (i32.const 12))))
            (call $log (local.get $a) (local.get $b) (local.get $c)) (br $continue))
            (call $config_get (local.get $a) (local.get $b) (local.get $c)) (br $continue))
            (call $host_bytes (local.get $a) (local.get $b) (local.get $c)) (br $continue))
            (call $host_string (local.get $a) (local.get $b) (local.get $c)) (br $continue))
            (call $error (local.get $a) (local.get $b)) (br $continue))
            (i32.store (local.get $a) (local.get $b)) (br $continue))
            (drop (memory.grow (i32.and (local.get $a) (i32.const 3)))) (br $continue))
            (call $setup (local.get $a) (local.get $b) (global.get $post_trap)) (br $continue))
            unreachable)
            (return (local.get $a)))
            (i32.store (local.get $a) (local.get $b))
            (i32.store offset=4 (local.get $a) (local.get $c))
            (return (local.get $a)))
          ;; op 11: nothing
        )
        (local.set $at (i32.add (local.get $at) (i32.const 13)))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (i32.const 0)))
