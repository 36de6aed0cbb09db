/*
 * typecheck.c - checks a wp_value against a WIT type before it goes to
 * Wasmtime. Besides giving errors that say where a value is wrong, this is
 * what keeps invalid UTF-8 and bad chars away from the C API, which aborts
 * the process on them.
 */
#include <stdio.h>
#include <string.h>

#include "component/value.h"
#include "util/utf8.h"

typedef struct check {
  uint64_t life; /* the instance life handles must belong to; 0: any */
  char path[256];
  size_t path_len;
  char *msg;
  size_t msg_size;
} check;

static void push(check *c, const char *fmt, const char *a, size_t i) {
  size_t room = sizeof c->path - c->path_len;
  int n = a ? snprintf(c->path + c->path_len, room, fmt, a)
            : snprintf(c->path + c->path_len, room, fmt, i);
  if (n > 0) c->path_len += (size_t)n < room ? (size_t)n : room - 1;
}

static bool fail(check *c, const char *fmt, const char *a, const char *b) {
  char what[192];
  snprintf(what, sizeof what, fmt, a, b);
  if (c->path_len) snprintf(c->msg, c->msg_size, "at %s: %s", c->path, what);
  else snprintf(c->msg, c->msg_size, "%s", what);
  return false;
}

static bool mismatch(check *c, const struct wp_type *t, const wp_value *v) {
  return fail(c, "expected %s, got %s", t->text, wp_type_kind_name(v->kind));
}

static bool value(check *c, const wp_value *v, const struct wp_type *t);

/* Checks a child. The path segment (`fmt`) is only spelt for a child whose
   check fails, which is then checked again with it to write the message:
   formatting it for every field of every call cost more than the check. */
static bool child(check *c, const wp_value *v, const struct wp_type *t, const char *fmt,
                  const char *a, size_t i) {
  size_t saved = c->path_len;
  if (value(c, v, t)) return true;
  c->path_len = saved;
  c->path[saved] = '\0';
  push(c, fmt, a, i);
  return value(c, v, t);
}

static bool check_list(check *c, const wp_value *v, const struct wp_type *t) {
  if (v->compact) {
    if (t->children[0]->kind == WP_TYPE_U8) return true;
    /* The first byte is the first item that does not fit: say so at [0]. */
    wp_value first = {.kind = WP_TYPE_U8, .of.u = v->of.bytes.data[0]};
    return child(c, &first, t->children[0], "[%zu]", NULL, 0);
  }
  for (size_t i = 0; i < v->of.agg.n; i++)
    if (!child(c, &v->of.agg.items[i], t->children[0], "[%zu]", NULL, i)) return false;
  return true;
}

static bool check_record(check *c, const wp_value *v, const struct wp_type *t) {
  if (v->of.agg.n != t->n)
    return fail(c, "record has %s fields, expected %s", v->of.agg.n < t->n ? "too few" : "too many",
                t->text);
  for (size_t i = 0; i < t->n; i++) {
    /* Fields are matched by name, so the order the caller used does not matter
       here; convert.c passes the names along and Wasmtime matches them too. */
    int j = -1;
    for (size_t k = 0; k < v->of.agg.n; k++)
      if (strcmp(v->of.agg.names[k], t->names[i]) == 0) j = (int)k;
    if (j < 0) return fail(c, "record is missing field '%s' (type %s)", t->names[i], t->text);
    if (!child(c, &v->of.agg.items[j], t->children[i], ".%s", t->names[i], 0)) return false;
  }
  return true;
}

static bool check_cases(check *c, const wp_value *v, const struct wp_type *t) {
  const char *name = v->kind == WP_TYPE_ENUM ? v->of.str.data : v->of.var.name;
  int i = wp_type_find_name(t, name);
  if (i < 0) return fail(c, "unknown case '%s' for %s", name, t->text);
  if (v->kind == WP_TYPE_ENUM) return true;
  const struct wp_type *pt = t->children[i];
  const wp_value *p = v->of.var.payload;
  if (!pt && p) return fail(c, "case '%s' takes no payload (%s)", name, t->text);
  if (pt && !p) return fail(c, "case '%s' needs a payload (%s)", name, t->text);
  return !p || child(c, p, pt, "(%s)", name, 0);
}

static bool check_result(check *c, const wp_value *v, const struct wp_type *t) {
  const char *name = v->of.var.flag ? "ok" : "err";
  const struct wp_type *pt = t->children[v->of.var.flag ? 0 : 1];
  const wp_value *p = v->of.var.payload;
  if (!pt && p) return fail(c, "%s takes no payload in %s", name, t->text);
  if (pt && !p) return fail(c, "%s needs a payload in %s", name, t->text);
  return !p || child(c, p, pt, ".%s", name, 0);
}

static bool check_flags(check *c, const wp_value *v, const struct wp_type *t) {
  for (size_t i = 0; i < v->of.agg.n; i++)
    if (wp_type_find_name(t, v->of.agg.names[i]) < 0)
      return fail(c, "unknown flag '%s' for %s", v->of.agg.names[i], t->text);
  return true;
}

static bool value(check *c, const wp_value *v, const struct wp_type *t) {
  wp_type_kind want = t->kind;
  bool handle = want == WP_TYPE_OWN || want == WP_TYPE_BORROW;
  if (handle) {
    if (v->kind != WP_TYPE_OWN && v->kind != WP_TYPE_BORROW) return mismatch(c, t, v);
    if (!v->of.res && !v->of.remote)
      return fail(c, "the resource handle was already dropped%s%s", "", "");
    if (v->of.res && c->life && v->of.life != c->life)
      return fail(c, "%s%s", WP_FOREIGN_HANDLE, "");
    return true;
  }
  if (v->kind != want) return mismatch(c, t, v);
  switch (want) {
  case WP_TYPE_CHAR:
    if (v->of.ch > 0x10FFFF || (v->of.ch >= 0xD800 && v->of.ch <= 0xDFFF))
      return fail(c, "char is not a Unicode scalar value%s%s", "", "");
    return true;
  case WP_TYPE_STRING:
    if (!wp_utf8_valid((const uint8_t *)v->of.str.data, v->of.str.len))
      return fail(c, "string is not valid UTF-8%s%s", "", "");
    return true;
  case WP_TYPE_LIST: return check_list(c, v, t);
  case WP_TYPE_TUPLE:
    if (v->of.agg.n != t->n)
      return fail(c, "tuple has the wrong number of elements for %s%s", t->text, "");
    for (size_t i = 0; i < t->n; i++)
      if (!child(c, &v->of.agg.items[i], t->children[i], ".%zu", NULL, i)) return false;
    return true;
  case WP_TYPE_RECORD: return check_record(c, v, t);
  case WP_TYPE_VARIANT:
  case WP_TYPE_ENUM: return check_cases(c, v, t);
  case WP_TYPE_OPTION:
    return !v->of.var.flag || child(c, v->of.var.payload, t->children[0], ".some", "", 0);
  case WP_TYPE_RESULT: return check_result(c, v, t);
  case WP_TYPE_FLAGS: return check_flags(c, v, t);
  case WP_TYPE_FUTURE:
  case WP_TYPE_STREAM:
  case WP_TYPE_ERROR_CONTEXT:
  case WP_TYPE_MAP:
    return fail(c, "values of type %s cannot be passed by wasmplug yet%s", t->text, "");
  default: return true;
  }
}

bool wp_value_check(const wp_value *v, const struct wp_type *t, uint64_t life, char *msg,
                    size_t msg_size) {
  /* Not zero-filled: the path is written as it grows (a designated
     initializer would clear all 256 bytes of it on every call). */
  check c;
  c.life = life;
  c.path[0] = '\0';
  c.path_len = 0;
  c.msg = msg;
  c.msg_size = msg_size;
  if (!v) {
    snprintf(msg, msg_size, "missing value (NULL) for %s", t->text);
    return false;
  }
  return value(&c, v, t);
}
