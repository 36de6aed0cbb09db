/*
 * wasmplug/value.h - Component Model values (wp_value): making and reading
 * them, and WAVE text.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_VALUE_H
#define WASMPLUG_VALUE_H

#include "wasmplug/wit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/**
 * A WIT value: a tree owned by whoever made it.
 *
 * Ownership rules:
 *   - wp_value_new_* return a new value the caller owns (NULL only when out
 *     of memory); free it with wp_value_free.
 *   - Constructors that take other values (list, tuple, record, variant,
 *     some, ok, err) take ownership of them, even when they fail; a NULL
 *     among them makes the constructor free the others and return NULL, so
 *     nested constructor calls need no error checks until the outermost.
 *   - wp_value_get_* borrow: a child stays valid as long as its parent.
 *   - Strings and names are copied in, stored NUL-terminated, and returned
 *     borrowed.
 *
 * Values are checked against the WIT type when they are passed (to a call,
 * or back from a host function): a mismatch, a string that is not UTF-8 or a
 * char that is not a Unicode scalar value is a WP_ERR_BAD_INPUT naming where
 * in the value it is, never a crash.
 */
typedef struct wp_value wp_value;

wp_value *wp_value_new_bool(bool v);
wp_value *wp_value_new_s8(int8_t v);
wp_value *wp_value_new_u8(uint8_t v);
wp_value *wp_value_new_s16(int16_t v);
wp_value *wp_value_new_u16(uint16_t v);
wp_value *wp_value_new_s32(int32_t v);
wp_value *wp_value_new_u32(uint32_t v);
wp_value *wp_value_new_s64(int64_t v);
wp_value *wp_value_new_u64(uint64_t v);
wp_value *wp_value_new_f32(float v);
wp_value *wp_value_new_f64(double v);
/** A char: a Unicode scalar value (checked when passed). */
wp_value *wp_value_new_char(uint32_t v);
/** A string from NUL-terminated UTF-8 (checked when passed). */
wp_value *wp_value_new_string(const char *s);
/** A string from `len` bytes of UTF-8. */
wp_value *wp_value_new_string_n(const char *s, size_t len);
/** A list<u8> holding a copy of `len` bytes. */
wp_value *wp_value_new_bytes(const void *data, size_t len);
/** A list of `n` values (taken). */
wp_value *wp_value_new_list(wp_value *const *items, size_t n);
/** A tuple of `n` values (taken). */
wp_value *wp_value_new_tuple(wp_value *const *items, size_t n);
/** A record: field `names[i]` (copied) has value `fields[i]` (taken). */
wp_value *wp_value_new_record(const char *const *names, wp_value *const *fields, size_t n);
/** A variant case, with a payload (taken) or NULL for a case without one. */
wp_value *wp_value_new_variant(const char *case_name, wp_value *payload);
/** An enum case. */
wp_value *wp_value_new_enum(const char *case_name);
/** option: some(v) (v taken) and none. */
wp_value *wp_value_new_some(wp_value *v);
wp_value *wp_value_new_none(void);
/** result: ok(v) / err(v), v taken; pass NULL for a result without that payload. */
wp_value *wp_value_new_ok(wp_value *v);
wp_value *wp_value_new_err(wp_value *v);
/** flags: the names of the flags that are set (copied). */
wp_value *wp_value_new_flags(const char *const *names, size_t n);

/** A deep copy (resource handles are copied as handles). */
wp_value *wp_value_clone(const wp_value *v);

/** Frees a value and its children. NULL is allowed. A resource handle in it is
    only forgotten: see wp_instance_drop_resource. */
void wp_value_free(wp_value *v);

/** Deep equality (floats compare bitwise, so NaN equals the same NaN). */
bool wp_value_equal(const wp_value *a, const wp_value *b);

/** The value's kind (WP_TYPE_OWN or WP_TYPE_BORROW for resource handles). */
wp_type_kind wp_value_get_kind(const wp_value *v);

/** Scalars. Getting the wrong kind returns 0 / false (check the kind first). */
bool wp_value_get_bool(const wp_value *v);
int64_t wp_value_get_int(const wp_value *v);    /**< s8, s16, s32, s64 */
uint64_t wp_value_get_uint(const wp_value *v);  /**< u8, u16, u32, u64 */
float wp_value_get_f32(const wp_value *v);
double wp_value_get_f64(const wp_value *v);
uint32_t wp_value_get_char(const wp_value *v);

/** A string's bytes (NUL-terminated; `*len`, if not NULL, gets the length). */
const char *wp_value_get_string(const wp_value *v, size_t *len);

/**
 * The bytes of a list<u8>, borrowed from `v` (valid until it is freed), with
 * their number in `*len` (if not NULL): no copy and no per-byte item, however
 * the list was made (wp_value_new_bytes, wp_value_new_list of u8 values, a
 * call's result, WAVE). An empty list of any element type gives a non-NULL
 * pointer and 0 (an empty list does not record its element type). NULL (and
 * 0) when `v` is not a list of u8.
 */
const uint8_t *wp_value_get_bytes(const wp_value *v, size_t *len);

/** Number of items: list and tuple elements, record fields, set flags. */
size_t wp_value_get_count(const wp_value *v);
/** Item i of a list, tuple or record (NULL out of range). */
const wp_value *wp_value_get_item(const wp_value *v, size_t i);
/** Name of record field i or of set flag i. */
const char *wp_value_get_name(const wp_value *v, size_t i);
/** A record field by name (NULL if absent). */
const wp_value *wp_value_get_field(const wp_value *v, const char *name);
/** Whether flag `name` is set. */
bool wp_value_has_flag(const wp_value *v, const char *name);

/**
 * The case of a variant or enum; "some"/"none" for an option; "ok"/"err"
 * for a result. NULL for other kinds.
 */
const char *wp_value_get_case(const wp_value *v);
/** The payload of a variant, option or result case (NULL if it has none). */
const wp_value *wp_value_get_payload(const wp_value *v);

/**
 * Parses a value of `type` written in WAVE, the WebAssembly Value Encoding
 * (e.g. `"text"`, `[1, 2]`, `{x: 1, y: 2}`, `some(ok("a"))`, `{read, write}`).
 * On a syntax or type error, WP_ERR_BAD_INPUT with the position (1-based
 * column) and a caret line under the offending character.
 */
wp_error *wp_value_from_wave(const wp_type *type, const char *text, wp_value **out);

/** The value as WAVE text; the caller frees it with wp_free. NULL if out of
    memory. Resource handles print as `<resource>`, which WAVE cannot read. */
char *wp_value_to_wave(const wp_value *v);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_VALUE_H */
