/*
 * driver.c - the wasmplug half of the WAVE differential test (src/main.rs
 * is the wasm-wave half, which starts this program and reads its answers).
 *
 * Requests on stdin, one after the other:
 *   TYPE '\n' LENGTH '\n' TEXT        (TEXT is LENGTH bytes, any but NUL)
 * Answers on stdout, in the same order:
 *   "OK " LENGTH '\n' PRINTED         wasmplug read TEXT and printed this
 *   "ERR " LENGTH '\n' MESSAGE        wasmplug refused TEXT
 *   "BUG " LENGTH '\n' WHY            what wasmplug printed does not read
 *                                     back to the value it had read
 *
 * TYPE is a WIT type in a compact anonymous form that main.rs writes
 * (type_code): `u8`, `list<T>`, `option<T>`, `result<T|_,E|_>`,
 * `tuple<T,...>`, `record{name:T,...}`, `variant{name(T),name,...}`,
 * `enum{name,...}`, `flags{name,...}`. The types are built by hand as
 * struct wp_type trees (as tests/unit/test_wave.c does), so no engine is
 * needed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/value.h"

/* Longest type line accepted (the depth probes send 100 nested lists). */
#define TYPE_MAX 65536

static const struct {
  const char *name;
  wp_type_kind kind;
} scalars[] = {
    {"bool", WP_TYPE_BOOL},     {"s8", WP_TYPE_S8},   {"u8", WP_TYPE_U8},   {"s16", WP_TYPE_S16},
    {"u16", WP_TYPE_U16},       {"s32", WP_TYPE_S32}, {"u32", WP_TYPE_U32}, {"s64", WP_TYPE_S64},
    {"u64", WP_TYPE_U64},       {"f32", WP_TYPE_F32}, {"f64", WP_TYPE_F64}, {"char", WP_TYPE_CHAR},
    {"string", WP_TYPE_STRING},
};

/* ---- reading a type code --------------------------------------------------- */

typedef struct reader {
  const char *s;
  bool bad;
} reader;

static void type_free(struct wp_type *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n; i++) {
    type_free(t->children[i]);
    if (t->names) free(t->names[i]);
  }
  free(t->children);
  free(t->names);
  free(t->text);
  free(t);
}

static bool eat(reader *r, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(r->s, prefix, n) != 0) return false;
  r->s += n;
  return true;
}

static char *read_name(reader *r) {
  size_t n = strspn(r->s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
  char *name = n ? strndup(r->s, n) : NULL;
  if (!name) r->bad = true;
  r->s += n;
  return name;
}

static struct wp_type *read_type(reader *r);

/* Adds a child (may be NULL: no payload) and its name (may be NULL). */
static void add(reader *r, struct wp_type *t, struct wp_type *child, char *name) {
  struct wp_type **kids = realloc(t->children, (t->n + 1) * sizeof *kids);
  char **names = realloc(t->names, (t->n + 1) * sizeof *names);
  if (kids) t->children = kids;
  if (names) t->names = names;
  if (!kids || !names) {
    r->bad = true;
    type_free(child);
    free(name);
    return;
  }
  t->children[t->n] = child;
  t->names[t->n] = name;
  t->n++;
}

/* One item of a compound type's list, by the kind of the type. */
static void read_item(reader *r, struct wp_type *t) {
  char *name = NULL;
  struct wp_type *child = NULL;
  switch (t->kind) {
  case WP_TYPE_RECORD:
    name = read_name(r);
    if (!eat(r, ":")) r->bad = true;
    child = read_type(r);
    break;
  case WP_TYPE_VARIANT:
    name = read_name(r);
    if (eat(r, "(")) {
      child = read_type(r);
      if (!eat(r, ")")) r->bad = true;
    }
    break;
  case WP_TYPE_ENUM:
  case WP_TYPE_FLAGS: name = read_name(r); break;
  case WP_TYPE_RESULT:
    if (!eat(r, "_")) child = read_type(r);
    break;
  default: child = read_type(r); break;
  }
  if (t->kind == WP_TYPE_RESULT) name = strdup(t->n == 0 ? "ok" : "err");
  add(r, t, child, name);
}

static struct wp_type *read_compound(reader *r, wp_type_kind kind, char close) {
  struct wp_type *t = calloc(1, sizeof *t);
  if (!t) {
    r->bad = true;
    return NULL;
  }
  t->kind = kind;
  do read_item(r, t);
  while (!r->bad && eat(r, ","));
  if (*r->s == close) r->s++;
  else r->bad = true;
  return t;
}

static struct wp_type *read_type(reader *r) {
  static const struct {
    const char *open;
    wp_type_kind kind;
    char close;
  } compounds[] = {
      {"list<", WP_TYPE_LIST, '>'},     {"option<", WP_TYPE_OPTION, '>'},
      {"result<", WP_TYPE_RESULT, '>'}, {"tuple<", WP_TYPE_TUPLE, '>'},
      {"record{", WP_TYPE_RECORD, '}'}, {"variant{", WP_TYPE_VARIANT, '}'},
      {"enum{", WP_TYPE_ENUM, '}'},     {"flags{", WP_TYPE_FLAGS, '}'},
  };
  const char *start = r->s;
  struct wp_type *t = NULL;
  for (size_t i = 0; !t && i < sizeof compounds / sizeof *compounds; i++)
    if (eat(r, compounds[i].open)) t = read_compound(r, compounds[i].kind, compounds[i].close);
  for (size_t i = 0; !t && !r->bad && i < sizeof scalars / sizeof *scalars; i++)
    if (eat(r, scalars[i].name) && (t = calloc(1, sizeof *t))) t->kind = scalars[i].kind;
  if (!t) r->bad = true;
  /* The children of lists, options and tuples have no names (add() made
     room for them, all NULL). */
  if (t && (t->kind == WP_TYPE_LIST || t->kind == WP_TYPE_OPTION || t->kind == WP_TYPE_TUPLE)) {
    free(t->names);
    t->names = NULL;
  }
  if (t && !(t->text = strndup(start, (size_t)(r->s - start)))) r->bad = true;
  return t;
}

static struct wp_type *parse_type(const char *code) {
  reader r = {code, false};
  struct wp_type *t = read_type(&r);
  if (r.bad || *r.s) {
    type_free(t);
    return NULL;
  }
  return t;
}

/* ---- one request ------------------------------------------------------------- */

static void answer(const char *tag, const char *body) {
  printf("%s %zu\n%s", tag, strlen(body), body);
}

/* Reads `text` as a value of `t`, prints it, and checks that the printed
   text reads back to the same value. */
static void handle(const struct wp_type *t, const char *text) {
  wp_value *v = NULL, *back = NULL;
  wp_error *err = wp_value_from_wave(t, text, &v);
  if (err) {
    answer("ERR", wp_error_get_message(err));
    wp_error_free(err);
    return;
  }
  char *printed = wp_value_to_wave(v);
  if (!printed) {
    answer("BUG", "wp_value_to_wave returned NULL");
  } else if ((err = wp_value_from_wave(t, printed, &back))) {
    answer("BUG", wp_error_get_message(err));
    wp_error_free(err);
  } else if (!wp_value_equal(v, back)) {
    char *again = wp_value_to_wave(back);
    answer("BUG", again ? again : "(reads back as another value)");
    wp_free(again);
  } else {
    answer("OK", printed);
  }
  wp_free(printed);
  wp_value_free(v);
  wp_value_free(back);
}

/* Reads one request; false at the end of the input. */
static bool read_request(char *type_line, char **text) {
  char len_line[32];
  if (!fgets(type_line, TYPE_MAX, stdin)) return false;
  if (!fgets(len_line, sizeof len_line, stdin)) return false;
  type_line[strcspn(type_line, "\n")] = '\0';
  size_t len = strtoul(len_line, NULL, 10);
  *text = malloc(len + 1);
  if (!*text || fread(*text, 1, len, stdin) != len) {
    free(*text);
    return false;
  }
  (*text)[len] = '\0';
  return true;
}

int main(void) {
  char *type_line = malloc(TYPE_MAX), *text = NULL;
  if (!type_line) return 1;
  int rc = 0;
  while (read_request(type_line, &text)) {
    struct wp_type *t = parse_type(type_line);
    if (!t) {
      fprintf(stderr, "wave-diff driver: cannot read the type %.200s\n", type_line);
      rc = 1;
      free(text);
      break;
    }
    handle(t, text);
    type_free(t);
    free(text);
  }
  free(type_line);
  return rc;
}
