/*
 * fuzz_wave.c - the WAVE reader (wp_value_from_wave) on arbitrary text,
 * against a set of WIT types covering every kind.
 *
 * Input: the first byte picks the type, the rest is the text (cut at the
 * first NUL, as the C API reads it).
 *
 * Must hold: no crash, leak or undefined behaviour; a refusal is
 * WP_ERR_BAD_INPUT with a message and leaves the output alone; an accepted
 * value passes the type check calls make (wp_value_check), and round-trips:
 * printed with wp_value_to_wave and read again it is the same value, which
 * prints the same.
 *
 * The types are built here the way src/component/types.c builds them from a
 * component (n children, NULL where a case has no payload, names for
 * records, variants, enums, flags and results, WIT text), so no engine is
 * needed. One is self-referential (deep = list<option<deep>>), which no WIT
 * type can be, to drive the reader into its nesting limit.
 */
#include <string.h>

#include "component/value.h"
#include "fuzz.h"

#define KIDS(...) ((struct wp_type *[]){__VA_ARGS__})
#define NAMES(...) ((char *[]){__VA_ARGS__})
#define SCALAR(var, k, txt) static struct wp_type var = {.kind = (k), .text = (txt)}

SCALAR(t_bool, WP_TYPE_BOOL, "bool");
SCALAR(t_s8, WP_TYPE_S8, "s8");
SCALAR(t_u8, WP_TYPE_U8, "u8");
SCALAR(t_s16, WP_TYPE_S16, "s16");
SCALAR(t_u16, WP_TYPE_U16, "u16");
SCALAR(t_s32, WP_TYPE_S32, "s32");
SCALAR(t_u32, WP_TYPE_U32, "u32");
SCALAR(t_s64, WP_TYPE_S64, "s64");
SCALAR(t_u64, WP_TYPE_U64, "u64");
SCALAR(t_f32, WP_TYPE_F32, "f32");
SCALAR(t_f64, WP_TYPE_F64, "f64");
SCALAR(t_char, WP_TYPE_CHAR, "char");
SCALAR(t_string, WP_TYPE_STRING, "string");

static struct wp_type t_list_u8 = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_u8), .text = "list<u8>"};
static struct wp_type t_list_string = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_string), .text = "list<string>"};
static struct wp_type t_list_s32 = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_s32), .text = "list<s32>"};
static struct wp_type t_list_list = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_list_s32), .text = "list<list<s32>>"};
static struct wp_type t_list_char = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_char), .text = "list<char>"};
static struct wp_type t_tuple = {.kind = WP_TYPE_TUPLE,
                                 .n = 3,
                                 .children = KIDS(&t_u8, &t_string, &t_f64),
                                 .text = "tuple<u8, string, f64>"};

static struct wp_type t_option_u8 = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_u8), .text = "option<u8>"};
static struct wp_type t_option_string = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_string), .text = "option<string>"};
static struct wp_type t_option_option = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_option_u8), .text = "option<option<u8>>"};

static struct wp_type t_point = {.kind = WP_TYPE_RECORD,
                                 .n = 2,
                                 .children = KIDS(&t_s32, &t_s32),
                                 .names = NAMES("x", "y"),
                                 .text = "point"};
static struct wp_type t_person = {
    .kind = WP_TYPE_RECORD,
    .n = 4,
    .children = KIDS(&t_string, &t_option_u8, &t_option_string, &t_list_string),
    .names = NAMES("name", "age", "nick-name", "tags"),
    .text = "person"};
static struct wp_type t_empty = {
    .kind = WP_TYPE_RECORD, .children = KIDS(NULL), .names = NAMES(NULL), .text = "empty"};
static struct wp_type t_option_point = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_point), .text = "option<point>"};

/* Case and flag names that are WAVE keywords print with a % prefix. */
static struct wp_type t_response = {
    .kind = WP_TYPE_VARIANT,
    .n = 5,
    .children = KIDS(NULL, &t_list_u8, &t_string, &t_option_point, &t_u8),
    .names = NAMES("empty", "body", "err", "nested", "some"),
    .text = "response"};
static struct wp_type t_status = {.kind = WP_TYPE_ENUM,
                                  .n = 4,
                                  .children = KIDS(NULL, NULL, NULL, NULL),
                                  .names = NAMES("ok", "not-found", "true", "inf"),
                                  .text = "status"};
static struct wp_type t_perms = {.kind = WP_TYPE_FLAGS,
                                 .n = 4,
                                 .children = KIDS(NULL, NULL, NULL, NULL),
                                 .names = NAMES("read", "write", "exec", "none"),
                                 .text = "perms"};

#define RESULT(var, ok, err, txt)                           \
  static struct wp_type var = {.kind = WP_TYPE_RESULT,      \
                               .n = 2,                      \
                               .children = KIDS(ok, err),   \
                               .names = NAMES("ok", "err"), \
                               .text = (txt)}
RESULT(t_result, &t_u8, &t_string, "result<u8, string>");
RESULT(t_result_bare, NULL, NULL, "result");
RESULT(t_result_no_ok, NULL, &t_string, "result<_, string>");
RESULT(t_result_no_err, &t_u8, NULL, "result<u8>");
RESULT(t_result_chars, &t_list_char, &t_status, "result<list<char>, status>");
RESULT(t_result_point, &t_point, &t_string, "result<point, string>");

static struct wp_type t_option_result = {.kind = WP_TYPE_OPTION,
                                         .n = 1,
                                         .children = KIDS(&t_result_chars),
                                         .text = "option<result<list<char>, status>>"};
static struct wp_type t_option_result_point = {.kind = WP_TYPE_OPTION,
                                               .n = 1,
                                               .children = KIDS(&t_result_point),
                                               .text = "option<result<point, string>>"};
static struct wp_type t_nested = {.kind = WP_TYPE_LIST,
                                  .n = 1,
                                  .children = KIDS(&t_option_result_point),
                                  .text = "list<option<result<point, string>>>"};

/* Kinds WAVE cannot write: every text must be refused. */
static struct wp_type t_own = {.kind = WP_TYPE_OWN, .text = "own<blob>"};
static struct wp_type t_borrow = {.kind = WP_TYPE_BORROW, .text = "borrow<blob>"};
static struct wp_type t_future = {
    .kind = WP_TYPE_FUTURE, .n = 1, .children = KIDS(&t_u8), .text = "future<u8>"};
static struct wp_type t_stream = {
    .kind = WP_TYPE_STREAM, .n = 1, .children = KIDS(NULL), .text = "stream"};
static struct wp_type t_map = {
    .kind = WP_TYPE_MAP, .n = 2, .children = KIDS(&t_string, &t_u8), .text = "map<string, u8>"};
static struct wp_type t_list_own = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_own), .text = "list<own<blob>>"};

/* deep = list<option<deep>> */
static struct wp_type t_deep;
static struct wp_type t_option_deep = {
    .kind = WP_TYPE_OPTION, .n = 1, .children = KIDS(&t_deep), .text = "option<deep>"};
static struct wp_type t_deep = {
    .kind = WP_TYPE_LIST, .n = 1, .children = KIDS(&t_option_deep), .text = "deep"};

static const struct wp_type *const types[] = {
    &t_bool,      &t_s8,          &t_u8,           &t_s16,           &t_u16,
    &t_s32,       &t_u32,         &t_s64,          &t_u64,           &t_f32,
    &t_f64,       &t_char,        &t_string,       &t_list_u8,       &t_list_string,
    &t_list_list, &t_tuple,       &t_option_u8,    &t_option_option, &t_point,
    &t_person,    &t_empty,       &t_response,     &t_status,        &t_perms,
    &t_result,    &t_result_bare, &t_result_no_ok, &t_result_no_err, &t_option_result,
    &t_nested,    &t_own,         &t_borrow,       &t_future,        &t_stream,
    &t_map,       &t_list_own,    &t_deep,
};
#define NTYPES (sizeof types / sizeof *types)

/* Whether WAVE can write some value of the type (list<own<blob>>: only []). */
static bool writable(const wp_type *t, const wp_value *v) {
  if (t == &t_list_own) return wp_value_get_count(v) == 0;
  return t->kind != WP_TYPE_OWN && t->kind != WP_TYPE_BORROW && t->kind != WP_TYPE_FUTURE &&
         t->kind != WP_TYPE_STREAM && t->kind != WP_TYPE_MAP;
}

static void check_refusal(const wp_type *t, wp_error *err, const wp_value *v) {
  const char *msg = fuzz_message(err);
  FUZZ_CHECK(wp_error_get_kind(err) == WP_ERR_BAD_INPUT, "%s: refused with kind '%s': %s", t->text,
             wp_error_kind_name(wp_error_get_kind(err)), msg);
  FUZZ_CHECK(v == NULL, "%s: the output was set although reading failed", t->text);
  wp_error_free(err);
}

/* An accepted value: well typed, and read back the same from its printing. */
static void check_value(const wp_type *t, const char *text, const wp_value *v) {
  char msg[512];
  FUZZ_CHECK(v != NULL, "%s: success without a value", t->text);
  FUZZ_CHECK(writable(t, v), "%s: '%s' was accepted for a type WAVE cannot write", t->text, text);
  FUZZ_CHECK(wp_value_check(v, t, 0, msg, sizeof msg), "%s: '%s' read as an ill-typed value: %s",
             t->text, text, msg);
  char *printed = wp_value_to_wave(v);
  FUZZ_CHECK(printed != NULL, "%s: wp_value_to_wave failed", t->text);
  wp_value *again = NULL;
  wp_error *err = wp_value_from_wave(t, printed, &again);
  FUZZ_CHECK(err == NULL, "%s: '%s' printed as '%s', which does not read back: %s", t->text, text,
             printed, fuzz_message(err));
  FUZZ_CHECK(wp_value_equal(v, again),
             "%s: '%s' printed as '%s', which reads back as another value", t->text, text, printed);
  char *reprinted = wp_value_to_wave(again);
  FUZZ_CHECK(reprinted && strcmp(printed, reprinted) == 0, "%s: '%s' prints as '%s', then as '%s'",
             t->text, text, printed, reprinted ? reprinted : "(NULL)");
  wp_value *clone = wp_value_clone(v);
  FUZZ_CHECK(clone && wp_value_equal(v, clone), "%s: a clone of '%s' differs", t->text, text);
  wp_value_free(clone);
  wp_free(reprinted);
  wp_value_free(again);
  wp_free(printed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const wp_type *t = types[data[0] % NTYPES];
  char *text = fuzz_cstring(data + 1, size - 1);
  wp_value *v = NULL;
  wp_error *err = wp_value_from_wave(t, text, &v);
  if (err) check_refusal(t, err, v);
  else check_value(t, text, v);
  wp_value_free(v);
  free(text);
  return 0;
}
