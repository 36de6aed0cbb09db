;; A component whose own interface `use`s a WASI resource (as
;; `use wasi:io/poll.{pollable}` does), and the host does not provide that
;; interface (issue 10). The interface lists `pollable` among its exports with
;; an (eq ...) type: it is satisfied by wasi:io/poll's, so it is neither
;; missing nor stubbed (a stub of its own failed instantiation with
;; "mismatched resource types" when missing imports were set to trap).
(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type (sub resource)))))
  (alias export $poll "pollable" (type $pollable))
  (import "example:missing/waiter" (instance $waiter
    (export "pollable" (type $p (eq $pollable)))
    (export "subscribe" (func (result (own $p))))))
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add"))))
