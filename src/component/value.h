/*
 * value.h - WIT values and types (internal).
 *
 * A wp_value is a C-friendly tree: strings and names are NUL-terminated
 * copies, compound values keep their children in one array. It is converted
 * to and from Wasmtime's wasmtime_component_val_t at the call boundary
 * (convert.c), and checked against a wp_type before it is handed to Wasmtime,
 * whose C API aborts on invalid UTF-8 and bad chars (typecheck.c).
 */
#ifndef WP_COMPONENT_VALUE_H
#define WP_COMPONENT_VALUE_H

#include <stdatomic.h>

#include <wasmtime.h>

#include "wasmplug.h"

struct wp_value {
  wp_type_kind kind;
  /* A non-empty list<u8> held as one buffer (of.bytes) rather than one
     wp_value per byte (of.agg). Every list of u8 values is made so (value.c,
     convert.c); wp_value_get_item makes the per-byte items on demand. */
  bool compact;
  union {
    bool b;
    int64_t s;      /* s8..s64 */
    uint64_t u;     /* u8..u64 */
    float f32;
    double f64;
    uint32_t ch;
    struct {        /* string (NUL-terminated), enum case name */
      char *data;
      size_t len;
    } str;
    struct {        /* list, tuple, record (names per item), flags (names only) */
      wp_value *items;  /* NULL for flags */
      char **names;     /* record field names / set flag names; NULL otherwise */
      size_t n;
    } agg;
    struct {        /* variant (name), option (is_some), result (is_ok) */
      char *name;       /* variant case; NULL for option/result */
      bool flag;        /* option: some; result: ok */
      wp_value *payload;/* NULL when none */
    } var;
    struct {        /* list<u8> when `compact` */
      /* The items wp_value_get_item hands out, made on its first call (set
         once, atomically, as values may be read from several threads). */
      wp_value *_Atomic view;
      uint8_t *data;    /* len > 0 bytes */
      size_t len;
    } bytes;
    struct { /* own / borrow */
      wasmtime_component_resource_any_t *res; /* NULL once dropped, or when remote */
      /* A handle of an instance in a worker process (isolation/), which has
         no store here: the host's id of the object (0: none). */
      uint64_t remote;
      /* With res or remote: the life of the instance it belongs to
         (wp_instance.life). A handle indexes its store's tables (a worker's
         objects, with remote), so another instance, or this one rebuilt
         (perhaps in the same store), must not take it: WP_FOREIGN_HANDLE. */
      uint64_t life;
    };
  } of;
};

/* Why a handle of another life is refused (typecheck.c, and
   wp_component_foreign_handle for the calls that take one handle). */
#define WP_FOREIGN_HANDLE                                                                   \
  "the resource handle belongs to another instance, or to this one before it was reset or " \
  "rebuilt (a pool's fresh instance)"

/* A WIT type: the Wasmtime type plus its children, built once per plugin. */
struct wp_type {
  wp_type_kind kind;
  wasmtime_component_valtype_t raw; /* owned: deleted with the type */
  size_t n;
  struct wp_type **children;        /* n entries (entries may be NULL) */
  char **names;                     /* n entries or NULL */
  char *text;                       /* WIT spelling */
};

struct wp_functype {
  size_t nparams;
  char **param_names;
  struct wp_type **params;
  struct wp_type *result;           /* NULL: no result */
  char *text;
};

/* True when `v` holds a handle of an instance in a worker process (of.remote),
   which an in-process instance cannot take. */
bool wp_value_has_remote(const wp_value *v);

/* Makes `v` (a struct in place) a list<u8> holding `data` (taken; len > 0). */
void wp_value_set_bytes(wp_value *v, uint8_t *data, size_t len);

/* Frees what a value holds, not the value struct itself. */
void wp_value_clear(wp_value *v);

/* Deep-copies src into dst (a struct in place); false when out of memory. */
bool wp_value_copy(wp_value *dst, const wp_value *src);

/* Names of the resource types a component imports and exports, so that
   own<T> / borrow<T> print with their names. */
typedef struct wp_resource_names {
  const wasmtime_component_resource_type_t **types;
  const char **names;
  size_t n;
} wp_resource_names;

/* Reads WAVE text in which resource positions are spelt `<resource>` (as
   wp_value_to_wave writes them): `take` makes each handle, in the order of
   the text; NULL fails the parse. Used to carry values to a worker process. */
typedef wp_value *(*wp_wave_resource_fn)(void *ctx, const wp_type *type);
wp_error *wp_value_from_wave_with(const wp_type *type, const char *text, wp_wave_resource_fn take,
                                  void *ctx, wp_value **out);

/* Builds a type tree from a Wasmtime type (taking ownership of `raw`);
   NULL when out of memory. `rn` may be NULL. */
struct wp_type *wp_type_from_wasmtime(wasmtime_component_valtype_t *raw,
                                      const wp_resource_names *rn);
void wp_type_free(struct wp_type *t);

/* Index of `name` among a type's names (fields, cases, flags), or -1. */
int wp_type_find_name(const struct wp_type *t, const char *name);

/* Whether `t` is list<u8> (values of it are held as one buffer). */
bool wp_type_is_u8_list(const struct wp_type *t);

/* Index of field `name` among record value `v`'s fields (they may come in
   any order; `hint`, the field's place in the type, is tried first), or
   SIZE_MAX when `v` has no such field. */
size_t wp_value_field_index(const wp_value *v, const char *name, size_t hint);

/* Builds / frees a function type from Wasmtime's (borrowed). */
struct wp_functype *wp_functype_from_wasmtime(const wasmtime_component_func_type_t *ft,
                                              const wp_resource_names *rn);
void wp_functype_free(struct wp_functype *ft);

/*
 * Checks `v` against `t`, and that its resource handles belong to instance
 * life `life`. On a mismatch writes a message such as
 * "at .origin.x: expected s32, got string" into msg and returns false.
 */
bool wp_value_check(const wp_value *v, const struct wp_type *t, uint64_t life, char *msg,
                    size_t msg_size);

/* wp_value -> Wasmtime value (a deep copy into `out`), record fields put in
   the order of type `t` (may be NULL: value order). The value must have
   passed wp_value_check. */
bool wp_value_to_wasmtime(const wp_value *v, const struct wp_type *t,
                          wasmtime_component_val_t *out);

/* Wasmtime value -> wp_value (deep copy into `out`), its resource handles
   belonging to instance life `life`; false when out of memory. */
bool wp_value_from_wasmtime(const wasmtime_component_val_t *v, uint64_t life, wp_value *out);

#endif
