;; The simulated machine's byte primitives, as arch/x86/lib keeps the real machine's (copy_page_64.S,
;; clear_page_64.S, memcpy_64.S, memset_64.S) plus the record search ebizzy's threads run.
;;
;; Addresses are byte offsets in the machine's memory, which this module imports: the one shared
;; WebAssembly.Memory whose buffer is the machine's SharedArrayBuffer. Nothing here checks a bound:
;; the TypeScript wrapper (src/arch/wasm.ts) checks every argument against physical memory before it
;; calls in, so a bad argument throws there and nothing is written. Lengths and counts are unsigned.
;;
;; Regenerate the committed bytes (src/arch/arch_wasm.ts) with `npm run gen:arch`; a test checks that
;; this text assembles to exactly those bytes.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; copy_page: one 4 KiB frame to another (copy-on-write's copy).
  (func (export "copy_page") (param $dst i32) (param $src i32)
    (memory.copy (local.get $dst) (local.get $src) (i32.const 4096)))

  ;; clear_page: zero one 4 KiB frame (the anonymous fault's zero-fill).
  (func (export "clear_page") (param $dst i32)
    (memory.fill (local.get $dst) (i32.const 0) (i32.const 4096)))

  ;; memcpy with memmove's semantics: memory.copy is correct for overlapping ranges.
  (func (export "memcpy") (param $dst i32) (param $src i32) (param $n i32)
    (memory.copy (local.get $dst) (local.get $src) (local.get $n)))

  ;; memset: $n bytes at $dst to the low byte of $c.
  (func (export "memset") (param $dst i32) (param $c i32) (param $n i32)
    (memory.fill (local.get $dst) (local.get $c) (local.get $n)))

  ;; memcmp: negative, zero or positive as the first byte that differs (unsigned) is lower in $a, the
  ;; ranges are equal, or it is higher in $a. Compares 8 bytes at a time until a word differs.
  (func (export "memcmp") (param $a i32) (param $b i32) (param $n i32) (result i32)
    (local $x i32)
    (local $y i32)
    (block $words_done
      (loop $words
        (br_if $words_done (i32.lt_u (local.get $n) (i32.const 8)))
        (br_if $words_done (i64.ne (i64.load align=1 (local.get $a)) (i64.load align=1 (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 8)))
        (br $words)))
    (block $bytes_done
      (loop $bytes
        (br_if $bytes_done (i32.eqz (local.get $n)))
        (local.set $x (i32.load8_u (local.get $a)))
        (local.set $y (i32.load8_u (local.get $b)))
        (if (i32.ne (local.get $x) (local.get $y))
          (then (return (i32.sub (local.get $x) (local.get $y)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $bytes)))
    (i32.const 0))

  ;; ebizzy's bsearch: $count 8-byte records at $base, sorted by key (the low 32 bits, little-endian,
  ;; unsigned). The index of a record whose key is $key, or -1. The probe order is the one
  ;; src/arch/typed_array.ts follows, so both find the same record.
  (func (export "bsearch_records") (param $base i32) (param $count i32) (param $key i32) (result i32)
    (local $lo i32)
    (local $hi i32)
    (local $mid i32)
    (local $value i32)
    (local.set $hi (local.get $count))
    ;; Half-open [lo, hi): no index goes below zero.
    (block $absent
      (loop $probe
        (br_if $absent (i32.ge_u (local.get $lo) (local.get $hi)))
        (local.set $mid (i32.add (local.get $lo) (i32.shr_u (i32.sub (local.get $hi) (local.get $lo)) (i32.const 1))))
        (local.set $value (i32.load align=1 (i32.add (local.get $base) (i32.shl (local.get $mid) (i32.const 3)))))
        (if (i32.eq (local.get $value) (local.get $key))
          (then (return (local.get $mid))))
        (if (i32.lt_u (local.get $value) (local.get $key))
          (then (local.set $lo (i32.add (local.get $mid) (i32.const 1))))
          (else (local.set $hi (local.get $mid))))
        (br $probe)))
    (i32.const -1))

  ;; ebizzy -z: the same search, linear: the index of the first record whose key is $key, or -1.
  (func (export "lsearch_records") (param $base i32) (param $count i32) (param $key i32) (result i32)
    (local $i i32)
    (block $absent
      (loop $next
        (br_if $absent (i32.ge_u (local.get $i) (local.get $count)))
        (if (i32.eq (i32.load align=1 (local.get $base)) (local.get $key))
          (then (return (local.get $i))))
        (local.set $base (i32.add (local.get $base) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const -1))
)
