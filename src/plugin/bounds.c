/*
 * bounds.c - caps on what loading a plugin may cost (size, functions), and
 * short .wat error messages.
 *
 * The function count comes from a scanner of our own that reads only
 * section headers, import sections and vector counts: it runs in
 * microseconds where compiling would take seconds. The bytes are untrusted,
 * so every read is checked against the end of its section. The scanner
 * never refuses anything itself: where it cannot read on, it stops and
 * Wasmtime's validation reports the problem as usual; only a count over the
 * cap (or nesting over WP_BOUNDS_MAX_DEPTH) is our error.
 */
#include "plugin/bounds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "plugin/plugin.h"

/* ------------------------------------------------------------------------ */
/* Reading bytes                                                            */
/* ------------------------------------------------------------------------ */

/* A window on the bytes; once a read fails, `ok` stays false and every
   later read returns 0, so callers check once at the end. */
typedef struct reader {
  const uint8_t *p, *end;
  bool ok;
} reader;

static size_t left(const reader *r) { return (size_t)(r->end - r->p); }

static uint8_t read_byte(reader *r) {
  if (!r->ok || r->p == r->end) {
    r->ok = false;
    return 0;
  }
  return *r->p++;
}

/* The next byte without taking it; 0 at the end (no caller wants a 0). */
static uint8_t peek_byte(const reader *r) { return r->ok && r->p < r->end ? *r->p : 0; }

static void skip(reader *r, uint64_t n) {
  if (!r->ok || n > left(r)) {
    r->ok = false;
    return;
  }
  r->p += n;
}

/*
 * An unsigned LEB128 number of at most `bits` bits (32 or 64), as wasm
 * encodes it: at most ceil(bits / 7) bytes, no bits set beyond `bits`.
 */
static uint64_t read_uleb(reader *r, unsigned bits) {
  uint64_t v = 0;
  unsigned shift;
  uint8_t b;

  for (shift = 0;; shift += 7) {
    b = read_byte(r);
    if (!r->ok || shift >= bits || (bits - shift < 7 && (b & 0x7f) >> (bits - shift))) {
      r->ok = false;
      return 0;
    }
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
}

/* A signed LEB128 number of at most `max_bytes` bytes, skipped. */
static void skip_sleb(reader *r, unsigned max_bytes) {
  unsigned i;

  for (i = 0; i < max_bytes; i++)
    if (!(read_byte(r) & 0x80)) return;
  r->ok = false;
}

static void skip_name(reader *r) { skip(r, read_uleb(r, 32)); }

/* The next section (id already read): its bytes as a reader of their own. */
static reader take_section(reader *r) {
  uint64_t size = read_uleb(r, 32);
  reader s = {.p = r->p, .end = r->p, .ok = false};

  if (r->ok && size <= left(r)) {
    s.end = r->p + size;
    s.ok = true;
    r->p += size;
  } else {
    r->ok = false;
  }
  return s;
}

/* ------------------------------------------------------------------------ */
/* Core types, only as far as needed to step over a non-function import     */
/* ------------------------------------------------------------------------ */

/* An abstract heap type (func, extern, any, eq, i31, struct, array, exn,
   cont and their bottoms: 0x68 to 0x75), possibly shared (0x65). */
static void skip_abstract_heap(reader *r) {
  uint8_t b = read_byte(r);

  if (b == 0x65) b = read_byte(r);
  if (b < 0x68 || b > 0x75) r->ok = false;
}

/* The heap type after a (ref ...) prefix: a type index or an abstract one. */
static void skip_heap_type(reader *r) {
  uint8_t b = peek_byte(r);

  if (b == 0x62) { /* exact $t */
    read_byte(r);
    read_uleb(r, 32);
  } else if (b >= 0x40 && b < 0x80) { /* a one-byte negative s33: abstract */
    skip_abstract_heap(r);
  } else {
    skip_sleb(r, 5); /* a type index, as s33 */
  }
}

/* A value type, also used for a table's element type. */
static void skip_val_type(reader *r) {
  uint8_t b = peek_byte(r);

  if (b >= 0x7B && b <= 0x7F) { /* i32, i64, f32, f64, v128 */
    read_byte(r);
  } else if (b == 0x63 || b == 0x64) { /* (ref null $t), (ref $t) */
    read_byte(r);
    skip_heap_type(r);
  } else {
    skip_abstract_heap(r); /* a short form such as funcref */
  }
}

/* Table or memory limits; `max_flags` is the highest flag byte allowed. */
static void skip_limits(reader *r, uint8_t max_flags) {
  uint8_t flags = read_byte(r);

  if (flags > max_flags) {
    r->ok = false;
    return;
  }
  read_uleb(r, 64);                  /* minimum (64-bit for memory64/table64) */
  if (flags & 1) read_uleb(r, 64);   /* maximum */
  if (flags & 8) read_uleb(r, 32);   /* custom page size */
}

/* One import's type; true when it imports a function. */
static bool read_type_ref(reader *r) {
  switch (read_byte(r)) {
  case 0x00: /* func */
  case 0x20: /* exact func */ read_uleb(r, 32); return r->ok;
  case 0x01: /* table */
    skip_val_type(r);
    skip_limits(r, 0x07);
    return false;
  case 0x02: /* memory */ skip_limits(r, 0x0F); return false;
  case 0x03: /* global */
    skip_val_type(r);
    if (read_byte(r) > 3) r->ok = false;
    return false;
  case 0x04: /* tag */
    if (read_byte(r) != 0) r->ok = false;
    read_uleb(r, 32);
    return false;
  default: r->ok = false; return false;
  }
}

/*
 * The imports of one entry of an import section: a single import, or one
 * of the compact forms (module name and empty item name, then 0x7F and
 * (name, type) pairs, or 0x7E, one type and names). Adds function imports
 * to *funcs as each is read in full.
 */
static void count_import_entry(reader *r, uint64_t *funcs) {
  uint64_t name_len, n, i;
  uint8_t form;
  bool func;

  skip_name(r);
  name_len = read_uleb(r, 32);
  skip(r, name_len);
  form = name_len == 0 ? peek_byte(r) : 0;
  if (form == 0x7F || form == 0x7E) read_byte(r);
  if (form == 0x7F) {
    for (n = read_uleb(r, 32), i = 0; r->ok && i < n; i++) {
      skip_name(r);
      if (read_type_ref(r)) (*funcs)++;
    }
  } else if (form == 0x7E) {
    func = read_type_ref(r);
    for (n = read_uleb(r, 32), i = 0; r->ok && i < n; i++) {
      skip_name(r);
      if (func && r->ok) (*funcs)++;
    }
  } else if (read_type_ref(r)) {
    (*funcs)++;
  }
}

/* Function imports of an import section, up to the first unreadable byte. */
static uint64_t count_imports(reader r, wp_wasm_counts *c) {
  uint64_t funcs = 0, n = read_uleb(&r, 32), i;

  /* Each entry takes at least a byte, so the loop ends with the bytes. */
  for (i = 0; r.ok && i < n; i++) count_import_entry(&r, &funcs);
  if (!r.ok) c->incomplete = true;
  return funcs;
}

/*
 * The item count at the start of a section (function, code, canon), each
 * item taking at least `min_bytes`. A count the section has no room for is
 * malformed: it is not counted, so that Wasmtime reports the problem.
 */
static uint64_t read_count(reader r, unsigned min_bytes, wp_wasm_counts *c) {
  uint64_t n = read_uleb(&r, 32);

  if (r.ok && n <= left(&r) / min_bytes) return n;
  c->incomplete = true;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Modules and components                                                   */
/* ------------------------------------------------------------------------ */

static const uint8_t MODULE_HEADER[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

/*
 * A core module: imports from its import section (2), defined functions
 * from its function (3) and code (10) sections. Wasmtime refuses a module
 * where those two differ; taking the larger keeps a lying function section
 * from hiding a big code section.
 */
static void scan_module(reader r, wp_wasm_counts *c) {
  uint64_t declared = 0, bodies = 0;
  uint8_t id;
  reader s;

  if (left(&r) < 8 || memcmp(r.p, MODULE_HEADER, 8) != 0) {
    c->incomplete = true;
    return;
  }
  r.p += 8;
  c->modules++;
  while (r.ok && r.p < r.end) {
    id = read_byte(&r);
    s = take_section(&r);
    if (!r.ok) break;
    if (id == 2) c->imported += count_imports(s, c);
    if (id == 3) declared = read_count(s, 1, c);  /* a type index each */
    if (id == 10) bodies = read_count(s, 3, c);   /* size, locals, end */
  }
  if (!r.ok) c->incomplete = true;
  c->defined += declared > bodies ? declared : bodies;
}

/*
 * A component: core modules (section 1) and nested components (section 4)
 * are scanned whole; canonical functions (section 8) are counted too, as
 * Wasmtime compiles a trampoline for each lowering.
 */
static void scan_component(reader r, unsigned depth, wp_wasm_counts *c) {
  uint8_t id;
  reader s;

  if (!wp_is_component_binary(r.p, left(&r))) {
    c->incomplete = true;
    return;
  }
  r.p += 8;
  while (r.ok && r.p < r.end && !c->too_deep) {
    id = read_byte(&r);
    s = take_section(&r);
    if (!r.ok) break;
    if (id == 1) scan_module(s, c);
    if (id == 4 && depth >= WP_BOUNDS_MAX_DEPTH) c->too_deep = true;
    if (id == 4 && !c->too_deep) scan_component(s, depth + 1, c);
    if (id == 8) c->canonical += read_count(s, 1, c);
  }
  if (!r.ok) c->incomplete = true;
}

void wp_wasm_count(const uint8_t *bytes, size_t len, wp_wasm_counts *out) {
  reader r = {.p = bytes, .end = bytes + len, .ok = true};

  memset(out, 0, sizeof *out);
  /* The same test wp_plugin_from_bytes uses to choose how to load. */
  if (wp_is_component_binary(bytes, len)) scan_component(r, 0, out);
  else scan_module(r, out);
}

uint64_t wp_wasm_counts_total(const wp_wasm_counts *c) {
  return c->imported + c->defined + c->canonical;
}

/* ------------------------------------------------------------------------ */
/* Caps                                                                     */
/* ------------------------------------------------------------------------ */

wp_error *wp_bounds_apply(struct wp_plugin *p) {
  const wp_manifest *m = p->manifest;
  const struct wp_engine *e = p->engine;
  char a[32], b[32];

  if (m->max_module_size > e->max_module_size)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": manifest module size limit %s is above the engine's "
                        "maximum %s; lower it or raise wp_engine_config_set_max_module_size",
                        p->name, wp_format_size(m->max_module_size, a, sizeof a),
                        wp_format_size(e->max_module_size, b, sizeof b));
  if (m->max_functions > e->max_functions)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": manifest function limit %u is above the engine's "
                        "maximum %u; lower it or raise wp_engine_config_set_max_functions",
                        p->name, (unsigned)m->max_functions, (unsigned)e->max_functions);
  p->max_module_size = m->max_module_size ? m->max_module_size : e->max_module_size;
  p->max_functions = m->max_functions ? m->max_functions : e->max_functions;
  return NULL;
}

/*
 * The end of a message about a cap of `value`: where the cap came from and
 * how to raise it. `engine_cap` is the engine's cap, as text.
 */
static void cap_advice(char *buf, size_t cap, bool from_manifest, const char *field,
                       const char *engine_cap, const char *setter, const char *option) {
  if (from_manifest)
    snprintf(buf, cap,
             " set by the manifest (limits.%s); raise it there, up to the engine's "
             "cap of %s",
             field, engine_cap);
  else snprintf(buf, cap, "; raise the engine's cap with %s (CLI: %s)", setter, option);
}

/* The module size error: `what` ("plugin", ".wat text", "file") is `len`
   bytes, over `cap`. */
static wp_error *size_error(const char *name, const struct wp_engine *e, bool from_manifest,
                            uint64_t cap, const char *what, uint64_t len) {
  char have[32], limit[32], engine_cap[32], advice[192];

  cap_advice(advice, sizeof advice, from_manifest, "module_size",
             wp_format_size(e->max_module_size, engine_cap, sizeof engine_cap),
             "wp_engine_config_set_max_module_size", "--max-module-size");
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT ": the %s is %s, more than the module size limit of %s%s", name,
                      what, wp_format_size(len, have, sizeof have),
                      wp_format_size(cap, limit, sizeof limit), advice);
}

wp_error *wp_bounds_check_size(const struct wp_plugin *p, size_t len, bool text) {
  if (len <= p->max_module_size) return NULL;
  return size_error(p->name, p->engine, p->manifest->max_module_size != 0, p->max_module_size,
                    text ? ".wat text" : "plugin", len);
}

/* The engine's cap, lowered by the manifest's; true in *lowered when so. */
static uint64_t file_cap(const struct wp_engine *e, const wp_manifest *m, bool *lowered) {
  *lowered = m && m->max_module_size && m->max_module_size < e->max_module_size;
  return *lowered ? m->max_module_size : e->max_module_size;
}

uint64_t wp_bounds_file_cap(const struct wp_engine *e, const wp_manifest *m) {
  bool lowered;

  return file_cap(e, m, &lowered);
}

wp_error *wp_bounds_check_file(const struct wp_engine *e, const wp_manifest *m, const char *name,
                               uint64_t size) {
  bool lowered;
  uint64_t cap = file_cap(e, m, &lowered);

  if (size <= cap) return NULL;
  return size_error(m && m->name ? m->name : name, e, lowered, cap, "file", size);
}

wp_error *wp_bounds_check_functions(const struct wp_plugin *p, const uint8_t *bytes, size_t len) {
  char detail[160], engine_cap[16], advice[192];
  wp_wasm_counts c;
  uint64_t total;

  wp_wasm_count(bytes, len, &c);
  if (c.too_deep)
    return wp_error_new(WP_ERR_LOAD,
                        WP_PLUGIN_FMT ": components are nested more than %d deep, which "
                                      "wasmplug refuses; flatten the composition",
                        p->name, WP_BOUNDS_MAX_DEPTH);
  total = wp_wasm_counts_total(&c);
  if (total <= p->max_functions) return NULL;
  if (wp_is_component_binary(bytes, len))
    snprintf(detail, sizeof detail,
             "%llu imported and %llu defined in %llu core modules, %llu canonical ABI",
             (unsigned long long)c.imported, (unsigned long long)c.defined,
             (unsigned long long)c.modules, (unsigned long long)c.canonical);
  else
    snprintf(detail, sizeof detail, "%llu imported, %llu defined", (unsigned long long)c.imported,
             (unsigned long long)c.defined);
  snprintf(engine_cap, sizeof engine_cap, "%u", (unsigned)p->engine->max_functions);
  cap_advice(advice, sizeof advice, p->manifest->max_functions != 0, "functions", engine_cap,
             "wp_engine_config_set_max_functions", "--max-functions");
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT ": %llu functions (%s), more than the function limit of "
                                    "%u%s",
                      p->name, (unsigned long long)total, detail, (unsigned)p->max_functions,
                      advice);
}

/* ------------------------------------------------------------------------ */
/* .wat errors                                                              */
/* ------------------------------------------------------------------------ */

/* Characters of source shown around the error column, and of the message. */
#define WAT_EXCERPT_CHARS 64
#define WAT_MESSAGE_CHARS 200

/* Byte offset of the character `chars` characters into s[0..len). */
static size_t char_offset(const char *s, size_t len, size_t chars) {
  size_t i = 0;

  for (; i < len && chars > 0; chars--)
    for (i++; i < len && ((unsigned char)s[i] & 0xC0) == 0x80; i++) {}
  return i;
}

static size_t char_count(const char *s, size_t len) {
  size_t i, n = 0;

  for (i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* Line `line` (from 1) of src, without its end of line; false if absent. */
static bool source_line(const char *src, size_t len, size_t line, const char **out,
                        size_t *out_len) {
  const char *p = src, *end = src + len, *nl;

  for (; line > 1; line--) {
    if (!(nl = memchr(p, '\n', (size_t)(end - p)))) return false;
    p = nl + 1;
  }
  nl = memchr(p, '\n', (size_t)(end - p));
  *out = p;
  *out_len = (size_t)((nl ? nl : end) - p);
  if (*out_len && p[*out_len - 1] == '\r') (*out_len)--;
  return true;
}

/* snprintf at the end of `out`, never past `cap` (a cut message is fine). */
static void append(char *out, size_t cap, const char *fmt, ...) WP_PRINTF(3, 4);

static void append(char *out, size_t cap, const char *fmt, ...) {
  size_t n = strlen(out);
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(out + n, cap - n, fmt, ap);
  va_end(ap);
}

/*
 * Appends, on two lines, the characters of `text` around column `col`
 * (from 1), cut with "..." on the sides that go on, and a caret under the
 * column. Tabs and other control bytes show as spaces, keeping the caret
 * in place and the message on its lines.
 */
static void append_excerpt(char *out, size_t cap, const char *text, size_t len, size_t col) {
  size_t chars = char_count(text, len), first, last, from, to, n, i, pad;

  if (col < 1) col = 1;
  if (col > chars + 1) col = chars + 1;
  first = col - 1 > WAT_EXCERPT_CHARS / 2 ? col - 1 - WAT_EXCERPT_CHARS / 2 : 0;
  last = first + WAT_EXCERPT_CHARS < chars ? first + WAT_EXCERPT_CHARS : chars;
  from = char_offset(text, len, first);
  to = char_offset(text, len, last);
  append(out, cap, "\n    %s", first > 0 ? "..." : "");
  for (n = strlen(out), i = from; i < to && n + 1 < cap; i++)
    out[n++] = (unsigned char)text[i] < 0x20 || text[i] == 0x7f ? ' ' : text[i];
  out[n] = '\0';
  append(out, cap, "%s\n    ", last < chars ? "..." : "");
  pad = (first > 0 ? 3 : 0) + (col - 1 - first);
  for (n = strlen(out), i = 0; i < pad && n + 1 < cap; i++) out[n++] = ' ';
  out[n] = '\0';
  append(out, cap, "^");
}

/*
 * A location "NAME:LINE:COL" ending at `end` (NAME may hold colons, so it
 * is read from the end); *at gets where NAME starts, after the last space.
 */
static bool location_before(const char *begin, const char *end, size_t *line, size_t *col,
                            const char **at) {
  const char *p = end;
  unsigned long l, c;
  int colons = 0;

  for (; p > begin && colons < 2; p--) colons += p[-1] == ':';
  if (colons < 2 || sscanf(p + 1, "%lu:%lu", &l, &c) != 2) return false;
  while (p > begin && p[-1] != ' ') p--;
  *line = l;
  *col = c;
  *at = p;
  return true;
}

/*
 * Where a Wasmtime .wat error is, and how much of its first line to keep.
 * Wasmtime writes "MESSAGE\n --> <anon>:LINE:COL" and then the source line,
 * or, when that line is very long, "MESSAGE at <anon>:LINE:COL" alone.
 */
static bool wat_location(const char *msg, size_t *keep, size_t *line, size_t *col) {
  const char *arrow = strstr(msg, "--> "), *eol, *at;

  *keep = strcspn(msg, "\n");
  if (arrow) {
    eol = arrow + strcspn(arrow, "\n");
    return location_before(arrow, eol, line, col, &at);
  }
  if (!location_before(msg, msg + *keep, line, col, &at) || at - msg < 4 ||
      memcmp(at - 4, " at ", 4) != 0)
    return false;
  *keep = (size_t)(at - 4 - msg);
  return true;
}

char *wp_wat_error_text(const char *wasmtime_msg, const char *src, size_t len) {
  size_t first, line = 0, col = 0, text_len;
  size_t cap = 4 * WAT_MESSAGE_CHARS + 8 * WAT_EXCERPT_CHARS + 128; /* 4 bytes a char */
  bool located = wat_location(wasmtime_msg, &first, &line, &col);
  const char *text;
  char *out = malloc(cap);

  if (!out) return NULL;
  if (first > WAT_MESSAGE_CHARS)
    snprintf(out, cap, "%.*s...", (int)char_offset(wasmtime_msg, first, WAT_MESSAGE_CHARS),
             wasmtime_msg);
  else snprintf(out, cap, "%.*s", (int)first, wasmtime_msg);
  if (located) {
    append(out, cap, " at line %zu, column %zu", line, col);
    if (source_line(src, len, line, &text, &text_len))
      append_excerpt(out, cap, text, text_len, col);
  }
  return out;
}

wp_error *wp_wat_error(const char *name, wasmtime_error_t *werr, const char *src, size_t len) {
  char *msg = wp_wasmtime_error_take(werr), *text = msg ? wp_wat_error_text(msg, src, len) : NULL;
  wp_error *err = wp_error_new(WP_ERR_LOAD,
                               WP_PLUGIN_FMT ": not a WebAssembly binary (no \\0asm header) "
                                             "and not valid WebAssembly text: %s",
                               name, text ? text : "(out of memory describing the error)");

  free(text);
  free(msg);
  return err;
}
