/*
 * wave.c - WAVE, the WebAssembly Value Encoding of Wasmtime and wasm-tools,
 * read into and written from wp_value trees.
 *
 * Reading is type-directed: the WIT type says how each token is to be read,
 * so that `none` can be an option here and an enum case there, and so that
 * errors can say what was expected ("expected u8, got "300" (out of range)")
 * with the column and a caret under the offending character.
 *
 * The lexer works on bytes of already validated UTF-8 and keeps one token of
 * lookahead. Values are built with the public constructors, which own their
 * children even when they fail: a half-built tree is freed by freeing its
 * parts, never by knowing the layout of struct wp_value.
 *
 * Writing follows wasm-wave's writer (what `wasmtime run --invoke` prints):
 * floats in their shortest form as Rust prints them, and characters escaped
 * as Rust's escape_debug escapes them (wave_unicode.h). The differences
 * that remain, in reading and in writing, are listed in docs/wave.md and
 * checked by the differential test in tests/wave-diff.
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/value.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "wave_unicode.h"

/* Deeper input is refused rather than risking the stack (as in wasm-wave).
   A flattened some(x) / ok(x) counts as a level, unlike in wasm-wave, so
   that what was read prints as text that reads back (docs/wave.md). */
#define WAVE_MAX_DEPTH 100

/* Error excerpts show at most this many characters of the offending line. */
#define EXCERPT_WIDTH 72

/* Tokens quoted in messages are cut to this many bytes. */
#define QUOTE_MAX 32

/* Names listed in "one of: ..." hints before giving up with "...". */
#define LIST_NAMES_MAX 12

/* Appends the UTF-8 form of the scalar value c. */
static void buf_utf8(wp_buf *b, uint32_t c) {
  uint8_t s[4];
  wp_buf_add(b, s, wp_utf8_encode(c, s));
}

static bool is_scalar(uint32_t c) { return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF); }

/* ------------------------------------------------------------------------ */
/* The parser and its error messages                                        */
/* ------------------------------------------------------------------------ */

typedef enum tok_kind {
  T_END,       /* end of input */
  T_PUNCT,     /* one of { } ( ) [ ] : , */
  T_NUMBER,    /* -?digits[.digits][e[+-]digits], or -inf */
  T_LABEL,     /* %?letter[letters digits -]*: labels and keywords */
  T_CHAR,      /* '...' */
  T_STRING,    /* "..." */
  T_MULTILINE, /* """ ... """ */
  T_RESOURCE,  /* <resource>: a handle, read only with a resource hook */
} tok_kind;

typedef struct token {
  tok_kind kind;
  size_t start, end; /* byte offsets into the input */
} token;

typedef struct parser {
  const char *src;
  size_t len;
  size_t pos;      /* where lexing continues */
  size_t last;     /* start of the token consumed last */
  token ahead;     /* one token of lookahead, valid when has_ahead */
  bool has_ahead;
  int depth;
  wp_error *err;   /* the first error; parsing stops there */
  wp_wave_resource_fn take; /* makes the handle at a <resource>; NULL: none */
  void *take_ctx;
} parser;

/* Bytes in the character at i: its UTF-8 length, or 1 for a stray byte. */
static size_t char_len(const parser *p, size_t i, size_t end) {
  uint32_t cp;
  size_t k = wp_utf8_decode((const uint8_t *)p->src + i, end - i, &cp);
  return k ? k : 1;
}

/* 1-based line and column (in characters) of byte offset `at`. */
static void locate(const parser *p, size_t at, size_t *line, size_t *col, size_t *line_start) {
  size_t ls = 0, ln = 1;
  for (size_t i = 0; i < at; i++) {
    if (p->src[i] == '\n') ln++, ls = i + 1;
  }
  size_t c = 1;
  for (size_t i = ls; i < at; i += char_len(p, i, p->len)) c++;
  *line = ln;
  *col = c;
  *line_start = ls;
}

/*
 * Appends the line holding the error and a caret under its column, cut to a
 * window around the column for long lines. Tabs and other control characters
 * show as spaces and bytes that are not UTF-8 as '?', so that the caret
 * lines up on a terminal.
 */
static void excerpt(wp_buf *b, const parser *p, size_t line_start, size_t col) {
  size_t le = line_start;
  while (le < p->len && p->src[le] != '\n') le++;
  if (le > line_start && p->src[le - 1] == '\r') le--;

  size_t total = 0;
  for (size_t i = line_start; i < le; i += char_len(p, i, le)) total++;
  size_t first = 0, last = total;
  if (total > EXCERPT_WIDTH) {
    first = col - 1 > EXCERPT_WIDTH / 2 ? col - 1 - EXCERPT_WIDTH / 2 : 0;
    if (first + EXCERPT_WIDTH > total) first = total - EXCERPT_WIDTH;
    last = first + EXCERPT_WIDTH;
  }

  wp_buf_puts(b, "\n  ");
  if (first > 0) wp_buf_puts(b, "...");
  size_t i = line_start, ch = 0;
  while (i < le) {
    uint32_t cp;
    size_t k = wp_utf8_decode((const uint8_t *)p->src + i, le - i, &cp);
    if (ch >= first && ch < last) {
      if (!k) wp_buf_putc(b, '?');
      else if (cp < 0x20 || cp == 0x7F) wp_buf_putc(b, ' ');
      else wp_buf_add(b, p->src + i, k);
    }
    i += k ? k : 1;
    ch++;
  }
  if (last < total) wp_buf_puts(b, "...");
  wp_buf_puts(b, "\n  ");
  size_t pad = (first > 0 ? 3 : 0) + (col - 1 - first);
  for (size_t k = 0; k < pad; k++) wp_buf_putc(b, ' ');
  wp_buf_putc(b, '^');
}

static void fail_oom(parser *p) {
  if (!p->err) p->err = wp_error_new(WP_ERR_NO_MEMORY, "out of memory reading a WAVE value");
}

/* Records the first error: "invalid WAVE value at column N: <what>" and the
   excerpt. */
static void fail_at(parser *p, size_t at, const char *fmt, ...) WP_PRINTF(3, 4);
static void fail_at(parser *p, size_t at, const char *fmt, ...) {
  if (p->err) return;
  size_t line, col, ls;
  locate(p, at, &line, &col, &ls);
  wp_buf b = {0};
  if (memchr(p->src, '\n', p->len))
    wp_buf_printf(&b, "invalid WAVE value at line %zu, column %zu: ", line, col);
  else wp_buf_printf(&b, "invalid WAVE value at column %zu: ", col);
  va_list ap;
  va_start(ap, fmt);
  wp_buf_vprintf(&b, fmt, ap);
  va_end(ap);
  excerpt(&b, p, ls, col);
  if (b.oom) fail_oom(p);
  else p->err = wp_error_new(WP_ERR_BAD_INPUT, "%s", (char *)b.data);
  free(b.data);
}

/* A NULL from a constructor with no error recorded means out of memory. */
static wp_value *made(parser *p, wp_value *v) {
  if (!v) fail_oom(p);
  return v;
}

/* ---- describing tokens and types in messages ---------------------------- */

/* A token for "got ...": `end of input`, `"300"`, `string "abc"`. */
static void describe(const parser *p, const token *t, char *out, size_t size) {
  const char *what = "";
  switch (t->kind) {
  case T_END: snprintf(out, size, "end of input"); return;
  case T_MULTILINE: snprintf(out, size, "a multiline string"); return;
  case T_STRING: what = "string "; break;
  case T_CHAR: what = "char "; break;
  default: break;
  }
  size_t n = t->end - t->start;
  bool cut = false;
  const char *nl = memchr(p->src + t->start, '\n', n);
  if (nl) n = (size_t)(nl - (p->src + t->start)), cut = true;
  if (n > QUOTE_MAX) n = QUOTE_MAX, cut = true;
  while (n > 0 && n < t->end - t->start && ((unsigned char)p->src[t->start + n] & 0xC0) == 0x80)
    n--;
  bool quoted = t->kind == T_STRING || t->kind == T_CHAR;
  snprintf(out, size, "%s%s%.*s%s%s", what, quoted ? "" : "\"", (int)n, p->src + t->start,
           cut ? "..." : "", quoted ? "" : "\"");
}

/* A type for "expected ...": its WIT text when short, else its kind. */
static const char *type_desc(const wp_type *t) {
  const char *text = wp_type_to_string(t);
  if (text && strlen(text) <= 48) return text;
  return wp_type_kind_name(wp_type_get_kind(t));
}

/* "a, b, c" from a type's names, for hints. */
static void names_list(const wp_type *t, char *out, size_t size) {
  wp_buf b = {0};
  size_t n = wp_type_get_count(t);
  for (size_t i = 0; i < n && i < LIST_NAMES_MAX; i++) {
    const char *name = wp_type_get_name(t, i);
    wp_buf_printf(&b, "%s%s", i ? ", " : "", name ? name : "?");
  }
  if (n > LIST_NAMES_MAX) wp_buf_puts(&b, ", ...");
  snprintf(out, size, "%s", b.data && !b.oom ? (char *)b.data : "");
  free(b.data);
}

static void fail_expected(parser *p, const wp_type *t, const token *got, const char *why) {
  char desc[96];
  describe(p, got, desc, sizeof desc);
  fail_at(p, got->start, "expected %s, got %s%s%s%s", type_desc(t), desc, why ? " (" : "",
          why ? why : "", why ? ")" : "");
}

/* ---- the lexer --------------------------------------------------------- */

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_hex(char c) { return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static bool is_label_char(char c) { return is_alpha(c) || is_digit(c) || c == '-'; }

static char at(const parser *p, size_t i) { return i < p->len ? p->src[i] : '\0'; }

/* Whitespace and `//` comments. */
static void skip_space(parser *p) {
  while (p->pos < p->len) {
    char c = p->src[p->pos];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      p->pos++;
    } else if (c == '/' && at(p, p->pos + 1) == '/') {
      while (p->pos < p->len && p->src[p->pos] != '\n') p->pos++;
    } else {
      break;
    }
  }
}

static size_t skip_digits(const parser *p, size_t i) {
  while (is_digit(at(p, i))) i++;
  return i;
}

/* A number per WAVE (JSON's grammar), or `-inf`. */
static bool lex_number(parser *p, token *t) {
  size_t i = t->start;
  if (at(p, i) == '-') {
    if (strncmp(p->src + i, "-inf", 4) == 0 && !is_label_char(at(p, i + 4))) {
      t->end = i + 4;
      return true;
    }
    i++;
  }
  if (!is_digit(at(p, i))) {
    fail_at(p, i, "expected a digit after '-'");
    return false;
  }
  if (at(p, i) == '0' && is_digit(at(p, i + 1))) {
    fail_at(p, i, "numbers cannot have leading zeros");
    return false;
  }
  i = skip_digits(p, i);
  if (at(p, i) == '.') {
    if (!is_digit(at(p, i + 1))) {
      fail_at(p, i + 1, "expected a digit after '.'");
      return false;
    }
    i = skip_digits(p, i + 1);
  }
  if (at(p, i) == 'e' || at(p, i) == 'E') {
    i++;
    if (at(p, i) == '+' || at(p, i) == '-') i++;
    if (!is_digit(at(p, i))) {
      fail_at(p, i, "expected a digit in the exponent");
      return false;
    }
    i = skip_digits(p, i);
  }
  t->end = i;
  return true;
}

/* Finds the closing quote of a one-line char or string literal. */
static bool lex_quoted(parser *p, token *t, char quote, const char *what) {
  size_t i = t->start + 1;
  while (i < p->len && p->src[i] != quote && p->src[i] != '\n') i += p->src[i] == '\\' ? 2 : 1;
  if (i >= p->len) {
    fail_at(p, t->start, "unterminated %s", what);
    return false;
  }
  if (p->src[i] == '\n') {
    fail_at(p, i, "unterminated %s (a line break in it must be written \\n)", what);
    return false;
  }
  t->end = i + 1;
  return true;
}

static bool lex_multiline(parser *p, token *t) {
  const char *close = NULL;
  for (size_t i = t->start + 3; i + 3 <= p->len && !close; i++)
    if (memcmp(p->src + i, "\"\"\"", 3) == 0) close = p->src + i;
  if (!close) {
    fail_at(p, t->start, "unterminated multiline string");
    return false;
  }
  t->end = (size_t)(close - p->src) + 3;
  return true;
}

static void fail_bad_char(parser *p, size_t i) {
  uint32_t cp = 0;
  size_t k = wp_utf8_decode((const uint8_t *)p->src + i, p->len - i, &cp);
  if (cp < 0x20 || cp == 0x7F) fail_at(p, i, "unexpected character U+%04X", (unsigned)cp);
  else fail_at(p, i, "unexpected character '%.*s'", (int)k, p->src + i);
}

/* Reads the token at p->pos into t (not consuming it). */
static bool lex(parser *p, token *t) {
  skip_space(p);
  t->start = t->end = p->pos;
  if (p->pos >= p->len) {
    t->kind = T_END;
    return true;
  }
  char c = p->src[p->pos];
  if (strchr("{}()[]:,", c)) {
    t->kind = T_PUNCT;
    t->end = p->pos + 1;
    return true;
  }
  if (c == '-' || is_digit(c)) {
    t->kind = T_NUMBER;
    return lex_number(p, t);
  }
  if (c == '%' || is_alpha(c)) {
    size_t i = p->pos + (c == '%');
    if (!is_alpha(at(p, i))) {
      fail_at(p, i, "expected a label after '%%'");
      return false;
    }
    while (is_label_char(at(p, i))) i++;
    t->kind = T_LABEL;
    t->end = i;
    return true;
  }
  if (c == '\'') {
    t->kind = T_CHAR;
    return lex_quoted(p, t, '\'', "char");
  }
  if (c == '"') {
    if (at(p, p->pos + 1) == '"' && at(p, p->pos + 2) == '"') {
      t->kind = T_MULTILINE;
      return lex_multiline(p, t);
    }
    t->kind = T_STRING;
    return lex_quoted(p, t, '"', "string");
  }
  if (c == '<' && strncmp(p->src + p->pos, "<resource>", 10) == 0) {
    t->kind = T_RESOURCE;
    t->end = p->pos + 10;
    return true;
  }
  fail_bad_char(p, p->pos);
  return false;
}

static bool peek(parser *p, token *t) {
  if (!p->has_ahead) {
    if (!lex(p, &p->ahead)) return false;
    p->has_ahead = true;
  }
  *t = p->ahead;
  return true;
}

static bool next(parser *p, token *t) {
  if (!peek(p, t)) return false;
  p->has_ahead = false;
  p->pos = t->end;
  p->last = t->start;
  return true;
}

static bool is_punct(const parser *p, const token *t, char c) {
  return t->kind == T_PUNCT && p->src[t->start] == c;
}

/* A label's text without its `%` prefix. */
static const char *label_text(const parser *p, const token *t, size_t *len) {
  size_t s = t->start + (p->src[t->start] == '%');
  *len = t->end - s;
  return p->src + s;
}

/* True for the bare (not %-prefixed) keyword `kw`. */
static bool is_keyword(const parser *p, const token *t, const char *kw) {
  size_t n = strlen(kw);
  return t->kind == T_LABEL && t->end - t->start == n && memcmp(p->src + t->start, kw, n) == 0;
}

/* `-inf`, which lexes as a number. */
static bool is_neg_inf(const parser *p, const token *t) {
  return t->kind == T_NUMBER && t->end - t->start == 4 && memcmp(p->src + t->start, "-inf", 4) == 0;
}

/* Index of the type's name equal to the label, or -1. */
static long find_name(const parser *p, const wp_type *type, const token *t) {
  size_t len;
  const char *s = label_text(p, t, &len);
  for (size_t i = 0; i < wp_type_get_count(type); i++) {
    const char *name = wp_type_get_name(type, i);
    if (name && strlen(name) == len && memcmp(name, s, len) == 0) return (long)i;
  }
  return -1;
}

/* Consumes punctuation `c` or fails with "expected 'c' <context>, got X". */
static bool expect_punct(parser *p, char c, const char *context) {
  token t;
  if (!next(p, &t)) return false;
  if (is_punct(p, &t, c)) return true;
  char desc[96];
  describe(p, &t, desc, sizeof desc);
  fail_at(p, t.start, "expected '%c'%s%s, got %s", c, context ? " " : "", context ? context : "",
          desc);
  return false;
}

/*
 * Steps through "item, item, ...<close>" after the opening bracket: call it
 * before each item (first = true the first time). False at the closing
 * bracket (consumed) or on an error (p->err set). A trailing comma is fine.
 */
static bool seq_more(parser *p, char close, bool first) {
  token t;
  if (!first) {
    if (!next(p, &t)) return false;
    if (is_punct(p, &t, close)) return false;
    if (!is_punct(p, &t, ',')) {
      char desc[96];
      describe(p, &t, desc, sizeof desc);
      fail_at(p, t.start, "expected ',' or '%c', got %s", close, desc);
      return false;
    }
  }
  if (!peek(p, &t)) return false;
  if (is_punct(p, &t, close)) {
    next(p, &t);
    return false;
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* Scalars                                                                  */
/* ------------------------------------------------------------------------ */

static wp_value *parse_value(parser *p, const wp_type *type);

static wp_value *parse_bool(parser *p, const wp_type *type) {
  token t;
  if (!next(p, &t)) return NULL;
  if (is_keyword(p, &t, "true")) return made(p, wp_value_new_bool(true));
  if (is_keyword(p, &t, "false")) return made(p, wp_value_new_bool(false));
  fail_expected(p, type, &t, NULL);
  return NULL;
}

/* The bounds of an integer kind: values from -neg_max to pos_max. */
static void int_bounds(wp_type_kind k, uint64_t *neg_max, uint64_t *pos_max) {
  switch (k) {
  case WP_TYPE_S8: *neg_max = 128, *pos_max = INT8_MAX; break;
  case WP_TYPE_S16: *neg_max = 32768, *pos_max = INT16_MAX; break;
  case WP_TYPE_S32: *neg_max = 2147483648u, *pos_max = INT32_MAX; break;
  case WP_TYPE_S64: *neg_max = (uint64_t)INT64_MAX + 1, *pos_max = INT64_MAX; break;
  case WP_TYPE_U8: *neg_max = 0, *pos_max = UINT8_MAX; break;
  case WP_TYPE_U16: *neg_max = 0, *pos_max = UINT16_MAX; break;
  case WP_TYPE_U32: *neg_max = 0, *pos_max = UINT32_MAX; break;
  default: *neg_max = 0, *pos_max = UINT64_MAX; break;
  }
}

static wp_value *new_int(wp_type_kind k, bool neg, uint64_t mag) {
  /* -mag without overflow, for mag up to 2^63 */
  int64_t s = neg && mag ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
  switch (k) {
  case WP_TYPE_S8: return wp_value_new_s8((int8_t)s);
  case WP_TYPE_S16: return wp_value_new_s16((int16_t)s);
  case WP_TYPE_S32: return wp_value_new_s32((int32_t)s);
  case WP_TYPE_S64: return wp_value_new_s64(s);
  case WP_TYPE_U8: return wp_value_new_u8((uint8_t)mag);
  case WP_TYPE_U16: return wp_value_new_u16((uint16_t)mag);
  case WP_TYPE_U32: return wp_value_new_u32((uint32_t)mag);
  default: return wp_value_new_u64(mag);
  }
}

static wp_value *parse_int(parser *p, const wp_type *type) {
  token t;
  if (!next(p, &t)) return NULL;
  if (t.kind != T_NUMBER || is_neg_inf(p, &t)) {
    fail_expected(p, type, &t, NULL);
    return NULL;
  }
  const char *s = p->src + t.start, *end = p->src + t.end;
  bool neg = *s == '-';
  uint64_t mag = 0;
  bool overflow = false;
  for (const char *c = s + neg; c < end; c++) {
    if (!is_digit(*c)) {
      fail_expected(p, type, &t, "not an integer");
      return NULL;
    }
    unsigned d = (unsigned)(*c - '0');
    if (mag > (UINT64_MAX - d) / 10) overflow = true;
    else mag = mag * 10 + d;
  }
  uint64_t neg_max, pos_max;
  int_bounds(wp_type_get_kind(type), &neg_max, &pos_max);
  if (neg && neg_max == 0 && mag == 0) {
    /* Rust's integer parser (so wasm-wave and Wasmtime) takes no sign on an
       unsigned type; -0 would read here and be refused there. */
    fail_expected(p, type, &t, "an unsigned integer has no sign, not even -0");
    return NULL;
  }
  if (overflow || mag > (neg ? neg_max : pos_max)) {
    fail_expected(p, type, &t, "out of range");
    return NULL;
  }
  return made(p, new_int(wp_type_get_kind(type), neg, mag));
}

/*
 * A WAVE number as a double or float. The digits are rewritten as
 * "<sign><integer digits>e<exponent>" so that strtod never sees a decimal
 * point, whose spelling depends on the process locale. Overflow to
 * infinity is refused; underflow rounds (to a subnormal or zero).
 */
static bool number_value(parser *p, const token *t, bool f32, double *out) {
  const char *s = p->src + t->start, *end = p->src + t->end;
  char *text = malloc((size_t)(end - s) + 32);
  if (!text) {
    fail_oom(p);
    return false;
  }
  size_t n = 0;
  if (*s == '-') text[n++] = *s++;
  long long exp10 = 0;
  bool frac = false, any = false;
  for (; s < end && *s != 'e' && *s != 'E'; s++) {
    if (*s == '.') {
      frac = true;
      continue;
    }
    if (*s == '0' && !any) {
      if (frac) exp10--;
      continue;
    }
    any = true;
    text[n++] = *s;
    if (frac) exp10--;
  }
  if (!any) text[n++] = '0';
  long long e = 0;
  if (s < end) {
    bool eneg = *++s == '-';
    if (*s == '-' || *s == '+') s++;
    for (; s < end; s++) e = e < 100000000 ? e * 10 + (*s - '0') : e;
    if (eneg) e = -e;
  }
  snprintf(text + n, 24, "e%lld", exp10 + e);
  double v = f32 ? (double)strtof(text, NULL) : strtod(text, NULL);
  free(text);
  *out = v;
  return !isinf(v);
}

static wp_value *parse_float(parser *p, const wp_type *type) {
  token t;
  bool f32 = wp_type_get_kind(type) == WP_TYPE_F32;
  double v;
  if (!next(p, &t)) return NULL;
  if (is_keyword(p, &t, "nan")) v = NAN;
  else if (is_keyword(p, &t, "inf")) v = INFINITY;
  else if (t.kind == T_NUMBER && is_neg_inf(p, &t)) v = -INFINITY;
  else if (t.kind != T_NUMBER) {
    fail_expected(p, type, &t, NULL);
    return NULL;
  } else if (!number_value(p, &t, f32, &v)) {
    if (!p->err) fail_expected(p, type, &t, "out of range");
    return NULL;
  }
  return made(p, f32 ? wp_value_new_f32((float)v) : wp_value_new_f64(v));
}

/* ---- chars and strings --------------------------------------------------- */

/* Reads the escape at byte i (a backslash) into *cp; returns its length or
   0 on error. */
static size_t read_escape(parser *p, size_t i, size_t end, uint32_t *cp) {
  char c = i + 1 < end ? p->src[i + 1] : '\0';
  const char *simple = strchr("\\'\"tnr", c);
  if (c && simple) {
    static const char decoded[] = "\\'\"\t\n\r";
    *cp = (unsigned char)decoded[simple - "\\'\"tnr"];
    return 2;
  }
  if (c != 'u') {
    if (!c || (unsigned char)c < 0x20)
      fail_at(p, i, "invalid escape: '\\' must be followed by one of \\ ' \" t n r u{...}");
    else
      fail_at(p, i, "invalid escape '\\%.*s' (valid: \\\\ \\' \\\" \\t \\n \\r \\u{...})",
              (int)char_len(p, i + 1, end), p->src + i + 1);
    return 0;
  }
  size_t k = i + 2, digits = 0;
  uint32_t v = 0;
  if (at(p, k) == '{' && k < end) {
    for (k++; k < end && is_hex(p->src[k]) && digits < 7; k++, digits++)
      v = (v << 4) |
          (uint32_t)(is_digit(p->src[k]) ? p->src[k] - '0' : (p->src[k] | 0x20) - 'a' + 10);
  }
  if (digits == 0 || digits > 6 || k >= end || p->src[k] != '}') {
    fail_at(p, i, "invalid escape: expected \\u{...} with 1 to 6 hex digits");
    return 0;
  }
  if (!is_scalar(v)) {
    fail_at(p, i, "invalid char \\u{%X}: %s", (unsigned)v,
            v > 0x10FFFF ? "beyond U+10FFFF, the last code point"
                         : "a surrogate, not a Unicode scalar value");
    return 0;
  }
  *cp = v;
  return k + 1 - i;
}

/* Decodes src[from..to) (escapes and literal UTF-8) onto b. */
static bool decode_span(parser *p, size_t from, size_t to, wp_buf *b) {
  size_t i = from;
  while (i < to) {
    size_t plain = i;
    while (plain < to && p->src[plain] != '\\') plain++;
    wp_buf_add(b, p->src + i, plain - i);
    i = plain;
    if (i < to) {
      uint32_t cp;
      size_t k = read_escape(p, i, to, &cp);
      if (!k) return false;
      buf_utf8(b, cp);
      i += k;
    }
  }
  return true;
}

static wp_value *parse_char(parser *p, const wp_type *type) {
  token t;
  if (!next(p, &t)) return NULL;
  if (t.kind != T_CHAR) {
    fail_expected(p, type, &t, NULL);
    return NULL;
  }
  size_t i = t.start + 1, end = t.end - 1;
  uint32_t cp = 0;
  size_t k;
  if (i == end) {
    fail_at(p, t.start, "empty char literal ''");
    return NULL;
  }
  if (p->src[i] == '\\') k = read_escape(p, i, end, &cp);
  else k = wp_utf8_decode((const uint8_t *)p->src + i, end - i, &cp);
  if (!k) return NULL;
  if (i + k != end) {
    fail_at(p, i + k, "a char holds one character (use \"...\" for a string)");
    return NULL;
  }
  return made(p, wp_value_new_char(cp));
}

/*
 * A """ string: a line break after the opening quotes; the closing quotes on
 * a line of their own, after spaces that set the indentation every other
 * line must have (it is removed). The line breaks between content lines
 * become \n. Empty lines need no indentation (wasm-wave requires it).
 */
static bool decode_multiline(parser *p, const token *t, wp_buf *b) {
  size_t body = t->start + 3, close = t->end - 3, first;
  if (at(p, body) == '\n' && body < close) first = body + 1;
  else if (at(p, body) == '\r' && at(p, body + 1) == '\n' && body + 1 < close) first = body + 2;
  else {
    fail_at(p, body, "a multiline string must have a line break right after the opening \"\"\"");
    return false;
  }
  size_t last_nl = close;
  while (p->src[last_nl - 1] != '\n') last_nl--;
  last_nl--; /* the '\n' before the closing line: at least first - 1 */
  for (size_t i = last_nl + 1; i < close; i++) {
    if (p->src[i] != ' ') {
      fail_at(p, close, "the closing \"\"\" must be on its own line, after nothing but spaces");
      return false;
    }
  }
  size_t indent = close - (last_nl + 1);
  for (size_t ls = first; ls <= last_nl && first <= last_nl;) {
    size_t le = ls;
    while (p->src[le] != '\n') le++;
    size_t next_ls = le + 1;
    if (le > ls && p->src[le - 1] == '\r') le--;
    if (ls != first) wp_buf_putc(b, '\n');
    if (le > ls) {
      for (size_t k = 0; k < indent; k++) {
        if (ls + k >= le || p->src[ls + k] != ' ') {
          fail_at(p, ls + k, "this line is indented less than the closing \"\"\"");
          return false;
        }
      }
      if (!decode_span(p, ls + indent, le, b)) return false;
    }
    ls = next_ls;
  }
  return true;
}

static wp_value *parse_string(parser *p, const wp_type *type) {
  token t;
  if (!next(p, &t)) return NULL;
  wp_buf b = {0};
  bool ok;
  if (t.kind == T_STRING) ok = decode_span(p, t.start + 1, t.end - 1, &b);
  else if (t.kind == T_MULTILINE) ok = decode_multiline(p, &t, &b);
  else {
    fail_expected(p, type, &t, NULL);
    return NULL;
  }
  wp_value *v = NULL;
  if (ok && b.oom) fail_oom(p);
  else if (ok) v = made(p, wp_value_new_string_n(b.data ? (char *)b.data : "", b.len));
  free(b.data);
  return v;
}

/* ------------------------------------------------------------------------ */
/* Compound values                                                          */
/* ------------------------------------------------------------------------ */

/* A growing array of parsed values, freed with its items on error. */
typedef struct vec {
  wp_value **items;
  size_t n, cap;
} vec;

static bool vec_push(parser *p, vec *v, wp_value *x) {
  if (!x) return false;
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 8;
    wp_value **items = realloc(v->items, cap * sizeof *items);
    if (!items) {
      wp_value_free(x);
      fail_oom(p);
      return false;
    }
    v->items = items;
    v->cap = cap;
  }
  v->items[v->n++] = x;
  return true;
}

static void vec_free(vec *v) {
  for (size_t i = 0; i < v->n; i++) wp_value_free(v->items[i]);
  free(v->items);
}

/* Consumes the opening bracket of a compound value. */
static bool open_bracket(parser *p, const wp_type *type, char c) {
  token t;
  if (!next(p, &t)) return false;
  if (is_punct(p, &t, c)) return true;
  fail_expected(p, type, &t, NULL);
  return false;
}

static wp_value *parse_list(parser *p, const wp_type *type) {
  const wp_type *elem = wp_type_get_child(type, 0);
  vec items = {0};
  if (!open_bracket(p, type, '[')) return NULL;
  for (bool first = true; seq_more(p, ']', first); first = false)
    if (!vec_push(p, &items, parse_value(p, elem))) break;
  wp_value *v = NULL;
  if (!p->err) {
    v = made(p, wp_value_new_list(items.items, items.n)); /* takes the items */
    items.n = 0;
  }
  vec_free(&items);
  return v;
}

static wp_value *parse_tuple(parser *p, const wp_type *type) {
  size_t n = wp_type_get_count(type);
  vec items = {0};
  if (!open_bracket(p, type, '(')) return NULL;
  for (bool first = true; seq_more(p, ')', first); first = false) {
    if (items.n == n) {
      token t = {0};
      if (peek(p, &t)) fail_at(p, t.start, "too many elements: the tuple has %zu", n);
      break;
    }
    if (!vec_push(p, &items, parse_value(p, wp_type_get_child(type, items.n)))) break;
  }
  if (!p->err && items.n < n)
    fail_at(p, p->last, "expected %zu elements in the tuple, got %zu", n, items.n);
  wp_value *v = NULL;
  if (!p->err) {
    v = made(p, wp_value_new_tuple(items.items, items.n));
    items.n = 0;
  }
  vec_free(&items);
  return v;
}

/* One "label: value" entry of a record into its slot in `fields`. */
static bool parse_field(parser *p, const wp_type *type, wp_value **fields) {
  token t;
  char hint[256];
  if (!next(p, &t)) return false;
  if (t.kind != T_LABEL) {
    char desc[96];
    describe(p, &t, desc, sizeof desc);
    fail_at(p, t.start, "expected a field name, got %s", desc);
    return false;
  }
  long i = find_name(p, type, &t);
  size_t len;
  const char *name = label_text(p, &t, &len);
  if (i < 0) {
    names_list(type, hint, sizeof hint);
    fail_at(p, t.start, "unknown field \"%.*s\" (the record has: %s)", (int)len, name, hint);
    return false;
  }
  if (fields[i]) {
    fail_at(p, t.start, "duplicate field \"%.*s\"", (int)len, name);
    return false;
  }
  if (!expect_punct(p, ':', "after the field name")) return false;
  fields[i] = parse_value(p, wp_type_get_child(type, (size_t)i));
  return fields[i] != NULL;
}

/* Missing option fields are none (WAVE allows leaving them out); any other
   missing field is an error at the closing brace. */
static bool fill_missing(parser *p, const wp_type *type, wp_value **fields, size_t close) {
  wp_buf missing = {0};
  size_t n = wp_type_get_count(type);
  for (size_t i = 0; i < n; i++) {
    if (fields[i]) continue;
    const wp_type *ft = wp_type_get_child(type, i);
    if (ft && wp_type_get_kind(ft) == WP_TYPE_OPTION) {
      if (!(fields[i] = made(p, wp_value_new_none()))) break;
    } else {
      const char *name = wp_type_get_name(type, i);
      wp_buf_printf(&missing, "%s\"%s\"", missing.len ? ", " : "", name ? name : "?");
    }
  }
  if (missing.len && !missing.oom) {
    bool many = strchr((char *)missing.data, ',') != NULL;
    fail_at(p, close, "missing field%s %s", many ? "s" : "", (char *)missing.data);
  } else if (missing.oom) {
    fail_oom(p);
  }
  free(missing.data);
  return !p->err;
}

static wp_value *build_record(parser *p, const wp_type *type, wp_value **fields) {
  size_t n = wp_type_get_count(type);
  const char **names = malloc((n ? n : 1) * sizeof *names);
  if (!names) {
    for (size_t i = 0; i < n; i++) wp_value_free(fields[i]);
    fail_oom(p);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) names[i] = wp_type_get_name(type, i);
  wp_value *v = made(p, wp_value_new_record(names, fields, n)); /* takes the fields */
  free(names);
  return v;
}

static wp_value *parse_record(parser *p, const wp_type *type) {
  size_t n = wp_type_get_count(type);
  token t;
  if (!open_bracket(p, type, '{')) return NULL;
  wp_value **fields = calloc(n ? n : 1, sizeof *fields);
  if (!fields) {
    fail_oom(p);
    return NULL;
  }
  if (peek(p, &t) && is_punct(p, &t, ':')) { /* {:}, a record of none fields */
    next(p, &t);
    expect_punct(p, '}', "after '{:'");
  } else {
    for (bool first = true; seq_more(p, '}', first); first = false)
      if (!parse_field(p, type, fields)) break;
  }
  wp_value *v = NULL;
  if (!p->err && fill_missing(p, type, fields, p->last)) {
    v = build_record(p, type, fields);
  } else {
    for (size_t i = 0; i < n; i++) wp_value_free(fields[i]);
  }
  free(fields);
  return v;
}

static wp_value *parse_flags(parser *p, const wp_type *type) {
  size_t n = wp_type_get_count(type), count = 0;
  token t;
  char hint[256];
  if (!open_bracket(p, type, '{')) return NULL;
  bool *set = calloc(n ? n : 1, sizeof *set);
  const char **names = calloc(n ? n : 1, sizeof *names);
  for (bool first = true; set && names && seq_more(p, '}', first); first = false) {
    if (!next(p, &t)) break;
    long i = t.kind == T_LABEL ? find_name(p, type, &t) : -1;
    size_t len;
    const char *name = label_text(p, &t, &len);
    if (t.kind != T_LABEL) {
      fail_expected(p, type, &t, NULL);
    } else if (i < 0) {
      names_list(type, hint, sizeof hint);
      fail_at(p, t.start, "unknown flag \"%.*s\" (the flags are: %s)", (int)len, name, hint);
    } else if (set[i]) {
      fail_at(p, t.start, "duplicate flag \"%.*s\"", (int)len, name);
    }
    if (p->err) break;
    set[i] = true;
  }
  wp_value *v = NULL;
  if (!set || !names) fail_oom(p);
  if (!p->err) {
    for (size_t i = 0; i < n; i++) /* in the type's order, as wasm-wave does */
      if (set[i]) names[count++] = wp_type_get_name(type, i);
    v = made(p, wp_value_new_flags(names, count));
  }
  free(set);
  free(names);
  return v;
}

/* "(payload)" after a case label, when the case has one. */
static bool parse_payload(parser *p, const wp_type *payload_type, const token *label,
                          wp_value **payload) {
  token t;
  size_t len;
  const char *name = label_text(p, label, &len);
  *payload = NULL;
  if (!peek(p, &t)) return false;
  bool has = is_punct(p, &t, '(');
  if (has && !payload_type) {
    fail_at(p, t.start, "case \"%.*s\" has no payload", (int)len, name);
    return false;
  }
  if (!has && payload_type) {
    fail_at(p, label->end, "case \"%.*s\" needs a payload: %.*s(...)", (int)len, name, (int)len,
            name);
    return false;
  }
  if (!has) return true;
  next(p, &t);
  *payload = parse_value(p, payload_type);
  if (*payload && !expect_punct(p, ')', "after the payload")) {
    wp_value_free(*payload);
    *payload = NULL;
  }
  return *payload != NULL;
}

/* A label that must be one of the type's names (variant and enum cases). */
static long parse_case(parser *p, const wp_type *type, token *t) {
  char hint[256];
  if (!next(p, t)) return -1;
  if (t->kind != T_LABEL) {
    fail_expected(p, type, t, NULL);
    return -1;
  }
  long i = find_name(p, type, t);
  if (i < 0) {
    size_t len;
    const char *name = label_text(p, t, &len);
    names_list(type, hint, sizeof hint);
    fail_at(p, t->start, "unknown case \"%.*s\" of %s (the cases are: %s)", (int)len, name,
            wp_type_kind_name(wp_type_get_kind(type)), hint);
  }
  return i;
}

static wp_value *parse_variant(parser *p, const wp_type *type) {
  token t;
  wp_value *payload;
  long i = parse_case(p, type, &t);
  if (i < 0 || !parse_payload(p, wp_type_get_child(type, (size_t)i), &t, &payload)) return NULL;
  return made(p, wp_value_new_variant(wp_type_get_name(type, (size_t)i), payload));
}

static wp_value *parse_enum(parser *p, const wp_type *type) {
  token t;
  long i = parse_case(p, type, &t);
  if (i < 0) return NULL;
  return made(p, wp_value_new_enum(wp_type_get_name(type, (size_t)i)));
}

/* WAVE lets some(x) / ok(x) be written as plain x unless x is itself an
   option or result (which would make `none`, `ok`... ambiguous). */
static bool flattenable(const wp_type *t) {
  return t && wp_type_get_kind(t) != WP_TYPE_OPTION && wp_type_get_kind(t) != WP_TYPE_RESULT;
}

static wp_value *parse_option(parser *p, const wp_type *type) {
  const wp_type *inner = wp_type_get_child(type, 0);
  token t;
  wp_value *payload;
  if (!peek(p, &t)) return NULL;
  if (is_keyword(p, &t, "none")) {
    next(p, &t);
    if (!parse_payload(p, NULL, &t, &payload)) return NULL;
    return made(p, wp_value_new_none());
  }
  if (is_keyword(p, &t, "some")) {
    next(p, &t);
    if (!parse_payload(p, inner, &t, &payload)) return NULL;
    return made(p, wp_value_new_some(payload));
  }
  if (flattenable(inner)) {
    payload = parse_value(p, inner);
    return payload ? made(p, wp_value_new_some(payload)) : NULL;
  }
  fail_expected(p, type, &t, "some(...) or none");
  return NULL;
}

static wp_value *parse_result(parser *p, const wp_type *type) {
  const wp_type *ok_type = wp_type_get_child(type, 0);
  token t;
  wp_value *payload;
  if (!peek(p, &t)) return NULL;
  bool ok = is_keyword(p, &t, "ok");
  if (ok || is_keyword(p, &t, "err")) {
    next(p, &t);
    if (!parse_payload(p, wp_type_get_child(type, ok ? 0 : 1), &t, &payload)) return NULL;
    return made(p, ok ? wp_value_new_ok(payload) : wp_value_new_err(payload));
  }
  if (flattenable(ok_type)) {
    payload = parse_value(p, ok_type);
    return payload ? made(p, wp_value_new_ok(payload)) : NULL;
  }
  fail_expected(p, type, &t, "ok or err");
  return NULL;
}

static wp_value *parse_unsupported(parser *p, const wp_type *type) {
  token t;
  if (!peek(p, &t)) return NULL;
  wp_type_kind k = wp_type_get_kind(type);
  if ((k == WP_TYPE_OWN || k == WP_TYPE_BORROW) && p->take && t.kind == T_RESOURCE) {
    next(p, &t);
    wp_value *v = p->take(p->take_ctx, type);
    if (!v) fail_at(p, t.start, "no handle was carried for this %s", type_desc(type));
    return v;
  }
  if (k == WP_TYPE_OWN || k == WP_TYPE_BORROW)
    fail_at(p, t.start,
            "resources cannot be written in WAVE; pass a handle through the API instead "
            "(%s)",
            type_desc(type));
  else fail_at(p, t.start, "%s values cannot be written in WAVE", type_desc(type));
  return NULL;
}

static wp_value *parse_kind(parser *p, const wp_type *type) {
  switch (wp_type_get_kind(type)) {
  case WP_TYPE_BOOL: return parse_bool(p, type);
  case WP_TYPE_S8:
  case WP_TYPE_U8:
  case WP_TYPE_S16:
  case WP_TYPE_U16:
  case WP_TYPE_S32:
  case WP_TYPE_U32:
  case WP_TYPE_S64:
  case WP_TYPE_U64: return parse_int(p, type);
  case WP_TYPE_F32:
  case WP_TYPE_F64: return parse_float(p, type);
  case WP_TYPE_CHAR: return parse_char(p, type);
  case WP_TYPE_STRING: return parse_string(p, type);
  case WP_TYPE_LIST: return parse_list(p, type);
  case WP_TYPE_RECORD: return parse_record(p, type);
  case WP_TYPE_TUPLE: return parse_tuple(p, type);
  case WP_TYPE_VARIANT: return parse_variant(p, type);
  case WP_TYPE_ENUM: return parse_enum(p, type);
  case WP_TYPE_OPTION: return parse_option(p, type);
  case WP_TYPE_RESULT: return parse_result(p, type);
  case WP_TYPE_FLAGS: return parse_flags(p, type);
  default: return parse_unsupported(p, type);
  }
}

static wp_value *parse_value(parser *p, const wp_type *type) {
  token t;
  if (!peek(p, &t)) return NULL;
  if (p->depth >= WAVE_MAX_DEPTH) {
    fail_at(p, t.start, "values are nested too deeply (the limit is %d levels)", WAVE_MAX_DEPTH);
    return NULL;
  }
  p->depth++;
  wp_value *v = parse_kind(p, type);
  p->depth--;
  if (!v) fail_oom(p); /* only sets an error if there is none yet */
  return v;
}

wp_error *wp_value_from_wave(const wp_type *type, const char *text, wp_value **out) {
  return wp_value_from_wave_with(type, text, NULL, NULL, out);
}

wp_error *wp_value_from_wave_with(const wp_type *type, const char *text, wp_wave_resource_fn take,
                                  void *ctx, wp_value **out) {
  if (!type || !text || !out)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_value_from_wave: type, text and out must not be NULL");
  parser p = {.src = text, .len = strlen(text), .take = take, .take_ctx = ctx};
  token t;
  size_t bad = wp_utf8_first_invalid((const uint8_t *)text, p.len);
  if (bad < p.len) {
    fail_at(&p, bad, "the input is not valid UTF-8");
    return p.err;
  }
  if (peek(&p, &t) && t.kind == T_END) {
    fail_at(&p, t.start, "empty input (expected %s)", type_desc(type));
    return p.err;
  }
  wp_value *v = p.err ? NULL : parse_value(&p, type);
  if (v && peek(&p, &t) && t.kind != T_END) {
    char desc[96];
    describe(&p, &t, desc, sizeof desc);
    fail_at(&p, t.start, "unexpected %s after the value", desc);
  }
  if (p.err) {
    wp_value_free(v);
    return p.err;
  }
  *out = v;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

/* The WAVE keywords: cases spelt like one get a `%` prefix. */
static bool is_wave_keyword(const char *s) {
  static const char *const kw[] = {"true", "false", "some", "none", "ok", "err", "inf", "nan"};
  for (size_t i = 0; i < sizeof kw / sizeof *kw; i++)
    if (strcmp(s, kw[i]) == 0) return true;
  return false;
}

/* Whether WAVE writes c as \u{...}: what wasm-wave escapes (controls,
   grapheme extenders, characters that are not printable; the table is
   generated from wasm-wave itself), and what is not a Unicode scalar
   value at all. */
static bool needs_unicode_escape(uint32_t c) {
  if (c >= 0x20 && c < 0x7F) return false; /* the common case, without the search */
  if (!is_scalar(c)) return true;
  size_t lo = 0, hi = sizeof wave_escaped / sizeof *wave_escaped;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c < wave_escaped[mid][0]) hi = mid;
    else if (c > wave_escaped[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/* One character of a char or string literal, escaped as wasm-wave does:
   \\ \" \' \t \n \r by name, the characters of needs_unicode_escape as
   \u{hex}, the others as themselves. */
static void put_escaped(wp_buf *b, uint32_t c) {
  switch (c) {
  case '\\': wp_buf_puts(b, "\\\\"); return;
  case '"': wp_buf_puts(b, "\\\""); return;
  case '\'': wp_buf_puts(b, "\\'"); return;
  case '\t': wp_buf_puts(b, "\\t"); return;
  case '\n': wp_buf_puts(b, "\\n"); return;
  case '\r': wp_buf_puts(b, "\\r"); return;
  default: break;
  }
  /* Not-a-char values (surrogates, > U+10FFFF) cannot be encoded; the escape
     at least shows what is there (and is refused when read back). */
  if (needs_unicode_escape(c)) wp_buf_printf(b, "\\u{%x}", (unsigned)c);
  else buf_utf8(b, c);
}

/* Bytes of a string that are not UTF-8 print as U+FFFD: WAVE text has no way
   to write them. */
static void put_string(wp_buf *b, const char *s, size_t len) {
  wp_buf_putc(b, '"');
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    size_t k = wp_utf8_decode((const uint8_t *)s + i, len - i, &cp);
    put_escaped(b, k ? cp : 0xFFFD);
    i += k ? k : 1;
  }
  wp_buf_putc(b, '"');
}

/* ---- the shortest digits of a float -------------------------------------- */

/*
 * Floats print as Rust prints them (wasm-wave uses Display): the fewest
 * significant digits that read back as the same float; of those, the ones
 * closest to its exact value; on a tie, the larger. libc's "%.17g" is not
 * shortest and rounds ties to even, so the digits are generated here, with
 * exact arithmetic, by the free-format algorithm of Steele & White (as
 * refined by Burger & Dybvig): x = r/s * 10^k, and the reals that read
 * back as x lie within m-/s below it and m+/s above it.
 */

/* Enough 32-bit limbs for r, s, m+ and m- (at most 2^1140: 4m * 10^323
   for the smallest doubles, and a few more bits while generating). */
#define BIG_LIMBS 40

/* 17 significant digits tell any two doubles apart (9 any two floats). */
#define SHORTEST_MAX 17

typedef struct big {
  uint32_t limb[BIG_LIMBS]; /* little-endian */
  size_t n;                 /* limbs in use; 0 for zero */
} big;

static void big_set(big *b, uint64_t v) {
  for (b->n = 0; v; v >>= 32) b->limb[b->n++] = (uint32_t)v;
}

/* b *= k. BIG_LIMBS is a bound by construction; the check only keeps a
   mistake from writing past the array. */
static void big_mul(big *b, uint32_t k) {
  uint64_t carry = 0;
  for (size_t i = 0; i < b->n; i++) {
    uint64_t t = (uint64_t)b->limb[i] * k + carry;
    b->limb[i] = (uint32_t)t;
    carry = t >> 32;
  }
  if (carry && b->n < BIG_LIMBS) b->limb[b->n++] = (uint32_t)carry;
}

/* b *= 2^e2 * 5^e5, in factors that fit 32 bits. */
static void big_scale(big *b, int e2, int e5) {
  for (; e2 > 0; e2 -= 31) big_mul(b, 1u << (e2 < 31 ? e2 : 31));
  for (; e5 > 0; e5 -= 13) { /* 5^13 is the largest power of 5 in 32 bits */
    uint32_t pow5 = 1;
    for (int i = 0; i < (e5 < 13 ? e5 : 13); i++) pow5 *= 5;
    big_mul(b, pow5);
  }
}

static int big_cmp(const big *a, const big *b) {
  if (a->n != b->n) return a->n < b->n ? -1 : 1;
  for (size_t i = a->n; i-- > 0;)
    if (a->limb[i] != b->limb[i]) return a->limb[i] < b->limb[i] ? -1 : 1;
  return 0;
}

/* out = a + b (out may be a). */
static void big_add(big *out, const big *a, const big *b) {
  const big *l = a->n >= b->n ? a : b, *sh = a->n >= b->n ? b : a;
  uint64_t carry = 0;
  size_t n = l->n;
  for (size_t i = 0; i < n; i++) {
    uint64_t t = (uint64_t)l->limb[i] + (i < sh->n ? sh->limb[i] : 0) + carry;
    out->limb[i] = (uint32_t)t;
    carry = t >> 32;
  }
  out->n = n;
  if (carry && n < BIG_LIMBS) out->limb[out->n++] = (uint32_t)carry;
}

/* a -= b, for a >= b. */
static void big_sub(big *a, const big *b) {
  int64_t borrow = 0;
  for (size_t i = 0; i < a->n; i++) {
    int64_t t = (int64_t)a->limb[i] - (i < b->n ? b->limb[i] : 0) - borrow;
    borrow = t < 0;
    a->limb[i] = (uint32_t)(t + (borrow << 32));
  }
  while (a->n && !a->limb[a->n - 1]) a->n--;
}

/* x (finite, > 0) as m * 2^e, as its format stores it, and whether the gap
   below x is half the gap above (a power of two with a smaller binade
   below it), which narrows the interval that reads back as x. */
static void decompose(double x, bool f32, uint64_t *m, int *e, bool *narrow) {
  uint64_t frac;
  int bexp;
  if (f32) {
    float f = (float)x;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    frac = bits & 0x7FFFFF, bexp = (int)(bits >> 23) & 0xFF;
    *m = bexp ? frac | 0x800000 : frac;
    *e = (bexp ? bexp : 1) - 150;
  } else {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    frac = bits & 0xFFFFFFFFFFFFFull, bexp = (int)(bits >> 52) & 0x7FF;
    *m = bexp ? frac | 0x10000000000000ull : frac;
    *e = (bexp ? bexp : 1) - 1075;
  }
  *narrow = bexp > 1 && frac == 0;
}

/* About ceil(log10(m * 2^e)), from the position of m's top bit (log10(2)
   is 78913 / 2^18 to within 1e-7: good for every float exponent), with
   integers only: libm is not linked. */
static int estimate_k(uint64_t m, int e) {
  int top = e - 1;
  while (m) m >>= 1, top++;
  long v = (long)top * 78913; /* floor(top * log10(2)) * 2^18, about */
  int fl = (int)(v >= 0 ? v >> 18 : -((-v + (1L << 18) - 1) >> 18));
  return fl + 1;
}

/* The state of the digit generation: x = r/s * 10^k; reals within m-/s
   below x and m+/s above it read back as x (the bounds too if inclusive). */
typedef struct digit_gen {
  big r, s, mp, mm;
  int k;
  bool inclusive;
} digit_gen;

/* Sets up r, s, m+, m- for x = m * 2^e, scaled so that r/s < 1 <= 10 r/s
   about (the first digit is then the next one generated). */
static void digit_gen_init(digit_gen *g, double x, bool f32) {
  uint64_t m;
  int e;
  bool narrow;
  decompose(x, f32, &m, &e, &narrow);
  int wide = narrow ? 2 : 1; /* the half gap above, in units of the one below */
  big_set(&g->r, m * 2 * (uint64_t)wide);
  big_set(&g->s, 2 * (uint64_t)wide);
  big_set(&g->mp, (uint64_t)wide);
  big_set(&g->mm, 1);
  if (e >= 0) {
    big_scale(&g->r, e, 0), big_scale(&g->mp, e, 0), big_scale(&g->mm, e, 0);
  } else {
    big_scale(&g->s, -e, 0);
  }
  g->k = estimate_k(m, e); /* may be off by one: fixed below */
  if (g->k >= 0) {
    big_scale(&g->s, g->k, g->k);
  } else {
    big_scale(&g->r, -g->k, -g->k), big_scale(&g->mp, -g->k, -g->k),
        big_scale(&g->mm, -g->k, -g->k);
  }
  g->inclusive = m % 2 == 0; /* reading rounds half to even */
  big high;
  for (;;) { /* the interval's top must be below 10^k (at it, if excluded) */
    big_add(&high, &g->r, &g->mp);
    int c = big_cmp(&high, &g->s);
    if (c < 0 || (c == 0 && !g->inclusive)) break;
    big_mul(&g->s, 10);
    g->k++;
  }
  for (;;) { /* ... and not below 10^(k-1) */
    big_add(&high, &g->r, &g->mp);
    big_mul(&high, 10);
    int c = big_cmp(&high, &g->s);
    if (c > 0 || (c == 0 && g->inclusive)) break;
    big_mul(&g->r, 10), big_mul(&g->mp, 10), big_mul(&g->mm, 10);
    g->k--;
  }
}

/* The next digit; *last is set when the digits so far, with this one
   (to which *up adds one), are the shortest that read back as x. */
static int digit_gen_next(digit_gen *g, bool *last, bool *up) {
  big_mul(&g->r, 10), big_mul(&g->mp, 10), big_mul(&g->mm, 10);
  int d = 0;
  while (big_cmp(&g->r, &g->s) >= 0) big_sub(&g->r, &g->s), d++;
  big t;
  int cl = big_cmp(&g->r, &g->mm);
  big_add(&t, &g->r, &g->mp);
  int ch = big_cmp(&t, &g->s);
  bool lo_ok = cl < 0 || (g->inclusive && cl == 0), hi_ok = ch > 0 || (g->inclusive && ch == 0);
  *last = lo_ok || hi_ok;
  *up = false;
  if (hi_ok && !lo_ok) *up = true;
  if (hi_ok && lo_ok) { /* both read back: the closer, a tie rounds up */
    big_add(&t, &g->r, &g->r);
    *up = big_cmp(&t, &g->s) >= 0;
  }
  return d;
}

/*
 * Stores the shortest digits of x (finite, > 0) in `digits` (no trailing
 * zeros) and returns the power of ten of the first one.
 */
static int shortest_digits(double x, bool f32, char digits[SHORTEST_MAX + 1]) {
  digit_gen g;
  digit_gen_init(&g, x, f32);
  int n = 0, exp = g.k - 1;
  bool last = false, up = false;
  while (!last && n < SHORTEST_MAX) /* the bound is never reached */
    digits[n++] = (char)('0' + digit_gen_next(&g, &last, &up));
  for (int i = n - 1; up && i >= 0; i--) { /* add the one, carrying */
    up = digits[i] == '9';
    digits[i] = up ? '0' : (char)(digits[i] + 1);
  }
  if (up) digits[0] = '1', exp++; /* 99..9 + 1 = 10..0 */
  while (n > 1 && digits[n - 1] == '0') n--;
  digits[n] = '\0';
  return exp;
}

/* Plain decimals in the everyday range (like Rust's Display, which
   wasm-wave uses: 2 -> "2", 0.5 -> "0.5"), an exponent outside it, where
   Display would print hundreds of digits (docs/wave.md: the same digits as
   Rust's `{:e}`). */
static void put_float(wp_buf *b, double x, bool f32) {
  if (isnan(x)) {
    wp_buf_puts(b, "nan");
    return;
  }
  if (signbit(x)) wp_buf_putc(b, '-'), x = -x;
  if (isinf(x)) {
    wp_buf_puts(b, "inf");
    return;
  }
  if (x == 0) {
    wp_buf_putc(b, '0');
    return;
  }
  char d[SHORTEST_MAX + 1];
  int e = shortest_digits(x, f32, d);
  int n = (int)strlen(d);
  if (e < -7 || e >= 21) {
    wp_buf_putc(b, d[0]);
    if (n > 1) wp_buf_printf(b, ".%s", d + 1);
    wp_buf_printf(b, "e%d", e);
  } else if (e < 0) {
    wp_buf_puts(b, "0.");
    for (int i = -1; i > e; i--) wp_buf_putc(b, '0');
    wp_buf_puts(b, d);
  } else if (e + 1 >= n) {
    wp_buf_puts(b, d);
    for (int i = n; i <= e; i++) wp_buf_putc(b, '0');
  } else {
    wp_buf_printf(b, "%.*s.%s", e + 1, d, d + e + 1);
  }
}

static void put_value(wp_buf *b, const wp_value *v);

static void put_items(wp_buf *b, const wp_value *v, const char *open, const char *close) {
  wp_buf_puts(b, open);
  for (size_t i = 0; i < wp_value_get_count(v); i++) {
    if (i) wp_buf_puts(b, ", ");
    put_value(b, wp_value_get_item(v, i));
  }
  wp_buf_puts(b, close);
}

static void put_record(wp_buf *b, const wp_value *v) {
  size_t n = wp_value_get_count(v);
  if (n == 0) { /* `{}` would read as flags */
    wp_buf_puts(b, "{:}");
    return;
  }
  wp_buf_putc(b, '{');
  for (size_t i = 0; i < n; i++) {
    const char *name = wp_value_get_name(v, i);
    wp_buf_printf(b, "%s%s: ", i ? ", " : "", name ? name : "");
    put_value(b, wp_value_get_item(v, i));
  }
  wp_buf_putc(b, '}');
}

static void put_flags(wp_buf *b, const wp_value *v) {
  wp_buf_putc(b, '{');
  for (size_t i = 0; i < wp_value_get_count(v); i++) {
    const char *name = wp_value_get_name(v, i);
    wp_buf_printf(b, "%s%s", i ? ", " : "", name ? name : "");
  }
  wp_buf_putc(b, '}');
}

/* variant / enum / option / result: case[(payload)]. */
static void put_case(wp_buf *b, const wp_value *v) {
  const char *name = wp_value_get_case(v);
  wp_type_kind k = wp_value_get_kind(v);
  if (!name) name = "";
  if ((k == WP_TYPE_VARIANT || k == WP_TYPE_ENUM) && is_wave_keyword(name)) wp_buf_putc(b, '%');
  wp_buf_puts(b, name);
  const wp_value *payload = wp_value_get_payload(v);
  if (payload) {
    wp_buf_putc(b, '(');
    put_value(b, payload);
    wp_buf_putc(b, ')');
  }
}

static void put_value(wp_buf *b, const wp_value *v) {
  if (!v) { /* only in a malformed tree, e.g. some(NULL) built by hand */
    wp_buf_puts(b, "<null>");
    return;
  }
  wp_type_kind k = wp_value_get_kind(v);
  size_t len;
  const char *s;
  switch (k) {
  case WP_TYPE_BOOL: wp_buf_puts(b, wp_value_get_bool(v) ? "true" : "false"); break;
  case WP_TYPE_S8:
  case WP_TYPE_S16:
  case WP_TYPE_S32:
  case WP_TYPE_S64: wp_buf_printf(b, "%lld", (long long)wp_value_get_int(v)); break;
  case WP_TYPE_U8:
  case WP_TYPE_U16:
  case WP_TYPE_U32:
  case WP_TYPE_U64: wp_buf_printf(b, "%llu", (unsigned long long)wp_value_get_uint(v)); break;
  case WP_TYPE_F32: put_float(b, wp_value_get_f32(v), true); break;
  case WP_TYPE_F64: put_float(b, wp_value_get_f64(v), false); break;
  case WP_TYPE_CHAR:
    wp_buf_putc(b, '\'');
    put_escaped(b, wp_value_get_char(v));
    wp_buf_putc(b, '\'');
    break;
  case WP_TYPE_STRING:
    s = wp_value_get_string(v, &len);
    put_string(b, s ? s : "", s ? len : 0);
    break;
  case WP_TYPE_LIST: put_items(b, v, "[", "]"); break;
  case WP_TYPE_TUPLE: put_items(b, v, "(", ")"); break;
  case WP_TYPE_RECORD: put_record(b, v); break;
  case WP_TYPE_FLAGS: put_flags(b, v); break;
  case WP_TYPE_VARIANT:
  case WP_TYPE_ENUM:
  case WP_TYPE_OPTION:
  case WP_TYPE_RESULT: put_case(b, v); break;
  case WP_TYPE_OWN:
  case WP_TYPE_BORROW: wp_buf_puts(b, "<resource>"); break;
  default: wp_buf_printf(b, "<%s>", wp_type_kind_name(k)); break;
  }
}

char *wp_value_to_wave(const wp_value *v) {
  if (!v) return NULL;
  wp_buf b = {0};
  put_value(&b, v);
  if (b.oom) {
    free(b.data);
    return NULL;
  }
  return (char *)b.data;
}
