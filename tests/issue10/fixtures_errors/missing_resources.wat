;; A component importing an interface with two resources the host does not
;; define (issue 10): loaded with missing imports set to trap, it must
;; instantiate (each missing resource gets a stub type of its own) and only
;; a call that reaches a missing import traps.
(component
  (import "example:missing/store" (instance $store
    (export "bucket" (type $bucket (sub resource)))
    (export "entry" (type $entry (sub resource)))
    (export "open" (func (result (own $bucket))))
    (export "[method]bucket.first" (func (param "self" (borrow $bucket)) (result (own $entry))))))
  (alias export $store "bucket" (type $bucket))
  (core func $open (canon lower (func $store "open")))
  (core func $drop (canon resource.drop $bucket))

  (core module $m
    (import "store" "open" (func $open (result i32)))
    (import "store" "drop" (func $drop (param i32)))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func (export "open-bucket")
      (call $drop (call $open))))
  (core instance $i (instantiate $m
    (with "store" (instance (export "open" (func $open)) (export "drop" (func $drop))))))

  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "open-bucket") (canon lift (core func $i "open-bucket"))))
