;; A component importing more than the host provides, from several
;; interfaces (issue 10): the load error must stay short, grouped by
;; interface, instead of listing every import with its type.
(component
  (import "log-line" (func (param "line" string)))
  (import "example:kv/store@0.2.0" (instance
    (export "bucket" (type $bucket (sub resource)))
    (export "open" (func (param "name" string) (result (own $bucket))))
    (export "[method]bucket.get" (func (param "self" (borrow $bucket)) (param "key" string)
                                       (result (option (list u8)))))
    (export "[method]bucket.set" (func (param "self" (borrow $bucket)) (param "key" string)
                                       (param "value" (list u8))))
    (export "[method]bucket.delete" (func (param "self" (borrow $bucket)) (param "key" string)))
    (export "[method]bucket.exists" (func (param "self" (borrow $bucket)) (param "key" string)
                                          (result bool)))))
  (import "example:kv/atomics@0.2.0" (instance
    (export "increment" (func (param "key" string) (param "delta" u64) (result u64)))))
  (import "example:messaging/producer@0.1.0" (instance
    (export "send" (func (param "topic" string) (param "body" (list u8))))))
  (import "example:messaging/consumer@0.1.0" (instance
    (export "subscribe" (func (param "topic" string)))
    (export "receive" (func (result (option (list u8)))))))
  (import "example:config/runtime@0.1.0" (instance
    (export "get" (func (param "key" string) (result (option string))))))
  (import "example:sql/query@0.1.0" (instance
    (export "execute" (func (param "statement" string) (result u64)))))
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))
