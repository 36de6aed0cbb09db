;; A component with two interfaces: example:res/types defines the resource
;; `thing` (the host defines it), example:res/make `use`s it. The second
;; lists `thing` with an (eq ...) type: the host's definition in the first
;; satisfies it, so it is not a missing import (issue 10).
(component
  (import "example:res/types" (instance $types
    (export "thing" (type (sub resource)))))
  (alias export $types "thing" (type $thing))
  (import "example:res/make" (instance $make
    (export "thing" (type $t (eq $thing)))
    (export "make" (func (result (own $t))))))
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))
