/*
 * grant.h - the manifest's "dl" section (wasmplug/dl.h): the libraries a
 * plugin may open, the symbols it may get from each, and their pinned
 * signatures; parsed when the plugin loads, kept for its life.
 */
#ifndef WP_HOST_DL_GRANT_H
#define WP_HOST_DL_GRANT_H

#include <stdatomic.h>

#include "types.h"

typedef struct dl_sym_grant {
  char *name;
  bool pinned; /* else any signature */
  dl_sig sig;
} dl_sym_grant;

typedef struct dl_lib_grant {
  char *name; /* the key: a file name or an absolute path; NULL for main */
  bool global;
  size_t nsyms;
  dl_sym_grant *syms;
} dl_lib_grant;

typedef struct dl_grant {
  atomic_size_t used; /* host memory the plugin's allocs hold (mem.h's dl_charge) */
  size_t nlibs;
  dl_lib_grant *libs;
  dl_lib_grant *main; /* NULL: the main program is not granted */
} dl_grant;

wp_error *dl_grant_parse(const char *plugin, const char *section, size_t len, dl_grant **out);
void dl_grant_free(dl_grant *g);

/* The grant of library `name` (NULL: the main program), or NULL. */
const dl_lib_grant *dl_grant_lib(const dl_grant *g, const char *name);
/* The grant of symbol `name` in `lib`, or NULL. */
const dl_sym_grant *dl_grant_sym(const dl_lib_grant *lib, const char *name);
/* The names granted ("a, b, c", cut to fit), or "none". */
const char *dl_grant_lib_names(const dl_grant *g, char *buf, size_t size);
const char *dl_grant_sym_names(const dl_lib_grant *lib, char *buf, size_t size);

#endif
