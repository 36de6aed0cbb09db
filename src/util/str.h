/* str.h - copying byte strings (internal). */
#ifndef WP_UTIL_STR_H
#define WP_UTIL_STR_H

#include <stddef.h>

/* A malloc'ed copy of len bytes of s, NUL-terminated (s may hold NULs and
   may be NULL when len is 0); NULL when out of memory. */
char *wp_strdup_n(const char *s, size_t len);

/* A malloc'ed, printable, one-line copy of untrusted bytes for a message:
   well-formed UTF-8 is kept, except control characters and backslashes,
   which become \xNN like every byte that is not UTF-8. NULL when out of
   memory. */
char *wp_strdup_printable(const void *s, size_t len);

/* The last component of a path (after the last '/'); borrowed from path. */
const char *wp_base_name(const char *path);

#endif
