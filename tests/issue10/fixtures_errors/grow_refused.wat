;; Grows its memory four pages (256 KiB) at a time until a grow is refused,
;; then traps as a C or Go allocator does when malloc fails (issue 10).
;; Under a 1 MiB limit it stops at 13 pages (832 KiB): the refused grow would
;; have made 17, so the call fails below the limit.
(module
  (memory (export "memory") 1)
  (func (export "fill")
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 4)) (i32.const -1))))
    unreachable)
  (func (export "pages") (result i32) (memory.size)))
