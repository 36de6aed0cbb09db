;; The wasmplug guest of `make bench-peers` (bench/peers/run.py), the
;; counterpart of extism.wat: the bytes ABI (docs/abi.md)
;; with a bump allocator. The host writes the input into this memory
;; (cabi_realloc), so echo hands the same bytes back as its output.
(module
  ;; the host function the harness defines with wp_engine_define_func
  (import "peers" "nop" (func $hnop))
  (memory (export "memory") 2)
  (global $heap (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $p i32)
    global.get $heap
    local.get 2 i32.const 1 i32.sub i32.add
    i32.const 0 local.get 2 i32.sub i32.and
    local.tee $p
    local.get 3 i32.add global.set $heap
    (block $ok
      global.get $heap memory.size i32.const 16 i32.shl i32.le_u br_if $ok
      global.get $heap memory.size i32.const 16 i32.shl i32.sub
      i32.const 16 i32.shr_u i32.const 1 i32.add
      memory.grow i32.const -1 i32.ne br_if $ok
      unreachable)
    local.get $p)
  ;; minimal call: empty output
  (func (export "nop") (param i32 i32) (result i32)
    i32.const 0 i32.const 0 i32.store
    i32.const 4 i32.const 0 i32.store
    i32.const 0)
  (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
    i32.const 0 local.get $ptr i32.store
    i32.const 4 local.get $len i32.store
    i32.const 0)
  ;; the host is done with an output: reset the heap
  (func (export "cabi_post_echo") (param i32) i32.const 4096 global.set $heap)
  (func (export "cabi_post_nop") (param i32) i32.const 4096 global.set $heap)
  ;; call_host(n): calls the host n times (a numeric export)
  (func (export "call_host") (param $n i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (call $hnop)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))))
