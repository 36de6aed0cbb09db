/*
 * types.h - the FFI types of wasi:dl (wit/wasi-dl/dl.wit): the primitive
 * types by their WIT case names, and struct types of them, each with the
 * libffi type that lays it out; read from the plugin's ffi-type values and
 * from the manifest's type names, printed for messages, compared for the
 * pinned signatures.
 */
#ifndef WP_HOST_DL_TYPES_H
#define WP_HOST_DL_TYPES_H

#include <ffi.h>
#include <stdbool.h>
#include <stddef.h>

#include "wasmplug.h"

typedef enum dl_prim {
  DL_SCHAR,
  DL_UCHAR,
  DL_SHORT,
  DL_USHORT,
  DL_INT,
  DL_UINT,
  DL_LONG,
  DL_ULONG,
  DL_LONGLONG,
  DL_ULONGLONG,
  DL_INT8,
  DL_UINT8,
  DL_INT16,
  DL_UINT16,
  DL_INT32,
  DL_UINT32,
  DL_INT64,
  DL_UINT64,
  DL_SIZE,
  DL_SSIZE,
  DL_POINTER,
  DL_FLOAT,
  DL_DOUBLE,
  DL_NPRIM
} dl_prim;

/* A type: a primitive (static, never freed) or a struct (malloc'd, owning
   its fields). Its ffi_type has a fixed address once made. */
typedef struct dl_type {
  bool is_struct;
  dl_prim prim;            /* !is_struct */
  size_t n;                /* is_struct: the fields */
  struct dl_type **fields; /* is_struct */
  size_t *offsets;         /* is_struct: of each field */
  ffi_type st;             /* is_struct: its libffi type (elements: below) */
  ffi_type **elements;     /* is_struct: n + 1, NULL-terminated */
} dl_type;

/* The WIT case name of a primitive ("c-int"). */
const char *dl_prim_name(dl_prim p);
/* The primitive named `name`, or false. */
bool dl_prim_from(const char *name, size_t len, dl_prim *out);
/* The static type of a primitive. */
dl_type *dl_prim_type(dl_prim p);

/* A struct of `n` types (taken, even on failure; n >= 1, at most
   WP_DL_MAX_FIELDS), laid out by libffi. *msg says why when NULL is
   returned for a reason other than memory (a bad type). */
dl_type *dl_struct_new(dl_type **fields, size_t n, const char **msg);
void dl_type_free(dl_type *t);
dl_type *dl_type_clone(const dl_type *t);

ffi_type *dl_type_ffi(dl_type *t);
size_t dl_type_size(const dl_type *t);
size_t dl_type_align(const dl_type *t);
bool dl_type_equal(const dl_type *a, const dl_type *b);

/* Appends the type as the manifest writes it ("c-int", "struct(c-int, c-int)"). */
void dl_type_print(const dl_type *t, char *buf, size_t size);

/* A function's signature: parameter types and result type (NULL: void). */
typedef struct dl_sig {
  size_t nargs;
  dl_type **args;
  dl_type *ret;
} dl_sig;

void dl_sig_clear(dl_sig *s);
bool dl_sig_equal(const dl_sig *a, const dl_sig *b);
bool dl_sig_clone(const dl_sig *from, dl_sig *to);
/* "(c-ulong, pointer, c-uint) -> c-ulong". */
void dl_sig_print(const dl_sig *s, char *buf, size_t size);

/* A type from a WIT ffi-type value; *why names what is wrong (written to
   why[size]) when it returns NULL with *oom false. */
dl_type *dl_type_from_value(const wp_value *v, char *why, size_t size, bool *oom);
/* The types of a list<ffi-type> as one type: the single type, or a struct
   of them (for alloc.new and deref). */
dl_type *dl_types_from_list(const wp_value *list, char *why, size_t size, bool *oom);

/* Whether a number of the primitive `p` is a float, signed, and its size. */
bool dl_prim_is_float(dl_prim p);
bool dl_prim_is_signed(dl_prim p);

#endif
