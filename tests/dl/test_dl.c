/*
 * test_dl.c - the dl capability (src/host/dl, wasi:dl through libffi;
 * docs/capabilities.md "dl") through a real component,
 * test-dl-component.wasm (guest_component.c), calling libwphello.so
 * (libhello.c, built next to this test) and the system's zlib.
 *
 * What is granted works (the RFC's hello, zlib's crc32 and zlibVersion,
 * structs by value and by pointer, numbers of several widths); what is not
 * (the section, a library, a symbol, a signature other than the pinned
 * one, the main program, the global flag) and what fails natively (a
 * missing library or symbol) or is malformed (a bad FFI type, a value of
 * the wrong type) is an error naming it, and the next call works.
 */
#include <zlib.h>

#include "helpers.h"

#ifndef WP_PLUGINS
#error "WP_PLUGINS must name the built plugins' directory"
#endif
#ifndef WP_DL_HELLO
#error "WP_DL_HELLO must be the path of libwphello.so"
#endif

/* ---- the manifest's section, checked at load (needs no component) ------------------- */

static wp_error *parse_load(const char *dl_section) {
  char json[4096];
  snprintf(json, sizeof json, "{\"name\": \"dl-test\", \"capabilities\": {\"dl\": %s}}",
           dl_section);
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(json, strlen(json), NULL, &m);
  if (err) return err;
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(NULL, &e));
  wp_plugin *p = NULL;
  err = wp_plugin_load(e, fixture("numeric.wat"), m, &p);
  wp_plugin_free(p);
  wp_engine_free(e);
  wp_manifest_free(m);
  return err;
}

static void test_manifest(void **state) {
  (void)state;
  assert_ok(parse_load("{}"));
  assert_ok(
      parse_load("{\"libraries\": {\"libz.so.1\": {\"symbols\": {\"crc32\": {\"args\": "
                 "[\"c-ulong\", \"pointer\", \"c-uint\"], \"ret\": \"c-ulong\"}, \"adler32\": "
                 "null, \"x\": {}, \"y\": {\"args\": [{\"struct\": [\"c-int\", "
                 "\"c-double\"]}]}}, \"global\": true}}, \"main\": {\"symbols\": {}}}"));
  assert_error(parse_load("{\"libraries\": {\"libz.so.1\": {\"symbols\": {\"crc32\": {\"args\": "
                          "[\"c-longdouble\"]}}}}}"),
               WP_ERR_BAD_INPUT,
               "capabilities.dl.libraries.libz.so.1.symbols.crc32.args: bad FFI type "
               "'c-longdouble'");
  assert_error(parse_load("{\"libraries\": {\"libz.so.1\": {\"symbols\": {\"f\": {\"ret\": "
                          "{\"struct\": []}}}}}}"),
               WP_ERR_BAD_INPUT, "bad FFI type: a struct of 0 fields");
  assert_error(parse_load("{\"libraries\": {\"libz.so.1\": {\"symbols\": {\"f\": {\"ret\": "
                          "{\"struct\": [{\"struct\": [\"c-int\"]}]}}}}}}"),
               WP_ERR_BAD_INPUT, "structs of primitives, as in dl.wit");
  assert_error(parse_load("{\"libraries\": {\"./libhello.so\": {\"symbols\": {}}}}"),
               WP_ERR_BAD_INPUT, "'./libhello.so' is neither a file name");
  assert_error(parse_load("{\"libraries\": {\"libz.so.1\": {}}}"), WP_ERR_BAD_INPUT,
               "capabilities.dl.libraries.libz.so.1.symbols: must be an object");
  assert_error(parse_load("{\"libs\": {}}"), WP_ERR_BAD_INPUT,
               "capabilities.dl: unknown field 'libs'");
  assert_error(parse_load("{\"libraries\": {\"libz.so.1\": {\"symbols\": {\"f\": {\"argz\": "
                          "[]}}}}}"),
               WP_ERR_BAD_INPUT, "capabilities.dl.libraries.libz.so.1.symbols.f.argz: unknown");
}

#if WP_DL_COMPONENT

/* ---- the guest --------------------------------------------------------------------------- */

#define HELLO WP_DL_HELLO

typedef struct {
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst;
} guest;

/* The grant of most tests: zlib's crc32 pinned, libwphello's symbols. */
static const char granted[] =
    "{\"libraries\": {"
    "\"libz.so.1\": {\"symbols\": {"
    "  \"crc32\": {\"args\": [\"c-ulong\", \"pointer\", \"c-uint\"], \"ret\": \"c-ulong\"},"
    "  \"zlibVersion\": {\"ret\": \"pointer\"}}},"
    "\"" HELLO "\": {\"symbols\": {"
    "  \"hello\": {\"args\": [], \"ret\": \"pointer\"},"
    "  \"add_i32\": {\"args\": [\"int32-t\", \"int32-t\"], \"ret\": \"int32-t\"},"
    "  \"crash_null\": {\"args\": [\"int32-t\"], \"ret\": \"int32-t\"},"
    "  \"point_sum\": {\"args\": [{\"struct\": [\"int32-t\", \"int32-t\", \"c-double\"]}],"
    "                \"ret\": \"c-double\"},"
    "  \"latin1\": null, \"null_string\": null, \"neg_i8\": null, \"scale\": {},"
    "  \"point_make\": null, \"point_double\": null, \"point_origin\": null,"
    "  \"sum_bytes\": null, \"length\": null, \"no_such_symbol\": null}},"
    "\"libwp-no-such-library.so\": {\"symbols\": {\"x\": null}}}}";

/* Loads the component with capabilities.dl = `section` (NULL: no section),
   in a worker process of its own when `isolated` (the worker is the build's
   wasmplug). */
static guest guest_load(const char *section, bool isolated) {
  char json[8192];
  if (section)
    snprintf(json, sizeof json, "{\"name\": \"dl-test\", \"capabilities\": {\"dl\": %s}%s}",
             section, isolated ? ", \"isolation\": \"process\"" : "");
  else snprintf(json, sizeof json, "{\"name\": \"dl-test\"}");
  guest g = {0};
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_worker_path(cfg, WP_CLI);
  assert_ok(wp_engine_new(cfg, &g.e));
  wp_engine_config_free(cfg);
  assert_ok(wp_plugin_load(g.e, WP_PLUGINS "/test-dl-component.wasm", m, &g.p));
  wp_manifest_free(m);
  assert_ok(wp_instance_new(g.p, &g.inst));
  return g;
}

static guest guest_new(const char *section) { return guest_load(section, false); }

static void guest_free(guest *g) {
  wp_instance_free(g->inst);
  wp_plugin_free(g->p);
  wp_engine_free(g->e);
}

/* Calls export `name` (takes the args); the result value (owned). */
static wp_value *call(guest *g, const char *name, wp_value **args, size_t n) {
  wp_value *r = NULL;
  wp_error *err = wp_instance_invoke(g->inst, name, (const wp_value *const *)args, n, &r);
  for (size_t i = 0; i < n; i++) wp_value_free(args[i]);
  assert_ok(err);
  return r;
}

/* The export's result must be ok; its payload (borrowed from r). */
static const wp_value *ok_of(const wp_value *r) {
  assert_non_null(r);
  const wp_value *pl = wp_value_get_payload(r);
  if (strcmp(wp_value_get_case(r), "ok") != 0) {
    print_error("expected ok, got err: %s\n", pl ? wp_value_get_string(pl, NULL) : "?");
    fail();
  }
  return pl;
}

/* The export's result must be err, containing every needle (NULL-terminated). */
static void assert_err_has(wp_value *r, ...) {
  assert_non_null(r);
  const wp_value *pl = wp_value_get_payload(r);
  if (strcmp(wp_value_get_case(r), "err") != 0) {
    print_error("expected an err, got ok\n");
    fail();
  }
  const char *msg = wp_value_get_string(pl, NULL);
  if (getenv("WP_DL_VERBOSE")) fprintf(stderr, "err: %s\n", msg);
  va_list ap;
  va_start(ap, r);
  for (const char *needle; (needle = va_arg(ap, const char *));) {
    if (!strstr(msg, needle)) {
      print_error("expected an err containing '%s', got '%s'\n", needle, msg);
      fail();
    }
  }
  va_end(ap);
  wp_value_free(r);
}

static wp_value *s(const char *text) { return wp_value_new_string(text); }

static wp_value *prim(const char *name) {
  return wp_value_new_variant("primitive", wp_value_new_enum(name));
}

static wp_value *list(wp_value **items, size_t n) { return wp_value_new_list(items, n); }

static wp_value *flags1(const char *name) {
  const char *names[2] = {name, NULL};
  return wp_value_new_flags(names, name ? 1 : 0);
}

static void assert_hello(guest *g) {
  wp_value *args[] = {s(HELLO)};
  wp_value *r = call(g, "hello", args, 1);
  assert_string_equal(wp_value_get_string(ok_of(r), NULL), "hello");
  wp_value_free(r);
}

static uint64_t guest_crc32(guest *g, const uint8_t *data, size_t len) {
  wp_value *args[] = {wp_value_new_bytes(data, len)};
  wp_value *r = call(g, "crc32", args, 1);
  uint64_t v = wp_value_get_uint(ok_of(r));
  wp_value_free(r);
  return v;
}

/* ---- what is granted works ------------------------------------------------------------- */

static void test_hello(void **state) {
  (void)state;
  guest g = guest_new(granted);
  assert_hello(&g);
  assert_hello(&g); /* again: the library is opened and closed each time */
  wp_value *r = call(&g, "names", NULL, 0);
  assert_string_equal(wp_value_get_string(r, NULL), "lib so .so");
  wp_value_free(r);
  guest_free(&g);
}

static void test_zlib(void **state) {
  (void)state;
  guest g = guest_new(granted);
  /* The check value of CRC-32 (ISO-HDLC): "123456789". */
  assert_int_equal(guest_crc32(&g, (const uint8_t *)"123456789", 9), 0xCBF43926u);
  uint8_t data[32];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 37 + 11);
  assert_int_equal(guest_crc32(&g, data, sizeof data), crc32(0, data, sizeof data));
  assert_int_equal(guest_crc32(&g, data, 0), 0);
  wp_value *r = call(&g, "zlib-version", NULL, 0);
  assert_string_equal(wp_value_get_string(ok_of(r), NULL), zlibVersion());
  wp_value_free(r);
  guest_free(&g);
}

static void test_structs(void **state) {
  (void)state;
  guest g = guest_new(granted);
  wp_value *args[] = {s(HELLO)};
  wp_value *r = call(&g, "points", args, 1);
  const char *text = wp_value_get_string(ok_of(r), NULL);
  if (getenv("WP_DL_VERBOSE")) fprintf(stderr, "points: %s\n", text);
  assert_non_null(strstr(text, "sum=7.5 doubled=6,8,1 made=1,2,0.25 origin=7,8,0.5 bytes=256 "
                               "len=10 ro="));
  assert_non_null(strstr(text, "read-only"));
  wp_value_free(r);
  guest_free(&g);
}

/* Pointers between allocs: cycles refused, reads bounded by the memory the
   plugin wrote, also through a view, a pointer into its own struct. */
static void test_pointers(void **state) {
  (void)state;
  guest g = guest_new(granted);
  wp_value *r = call(&g, "pointers", NULL, 0);
  const char *text = wp_value_get_string(r, NULL);
  if (getenv("WP_DL_VERBOSE")) fprintf(stderr, "pointers: %s\n", text);
  static const char *const want[] = {
      "a->b: ok",
      "b->a: alloc.write-primitive: storing this pointer would make memory refer to itself",
      "write-bytes: ok",
      "read-string: alloc.read-string: no NUL within the 3 bytes the pointer points to",
      "read-bytes 4: alloc.read-bytes: 4 bytes asked, the pointer points to 3",
      "read-bytes 3: ok",
      "p->s: ok",
      "deref: ok",
      "view read-string: alloc.read-string: no NUL within the 3 bytes",
      "f1=9: ok",
      "f0->f1: ok",
      "*f0==9: ok",
      "struct=9: alloc.write-primitive: the alloc holds a struct(pointer, c-int): select a field",
      "read pointer: alloc.read-primitive: the alloc holds a pointer; it reads numbers",
      "f1=null: alloc.write-primitive: null into a c-int",
  };
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    if (!strstr(text, want[i])) {
      print_error("missing '%s' in '%s'\n", want[i], text);
      fail();
    }
  wp_value_free(r);
  assert_hello(&g);
  guest_free(&g);
}

/* A plugin's allocs hold at most WP_DL_MAX_MEMORY; dropping them frees it. */
static void test_budget(void **state) {
  (void)state;
  guest g = guest_new(granted);
  wp_value *args[] = {wp_value_new_u32(WP_DL_MAX_MEMORY / 32768 + 1)};
  assert_err_has(call(&g, "hog", args, 1),
                 "alloc.new: this plugin's allocs would hold over 67108864 bytes",
                 "WP_DL_MAX_MEMORY", NULL);
  /* All of it was given back: nearly as much again fits. */
  wp_value *again[] = {wp_value_new_u32(WP_DL_MAX_MEMORY / 32768 - 64)};
  wp_value *r = call(&g, "hog", again, 1);
  ok_of(r);
  wp_value_free(r);
  assert_hello(&g);
  guest_free(&g);
}

/* call-numbers(HELLO, sym, arg types, ret type, values). */
static wp_value *numbers(guest *g, const char *sym, wp_value **types, size_t nt, const char *ret,
                         wp_value **values, size_t nv) {
  wp_value *args[] = {s(HELLO), s(sym), list(types, nt),
                      ret ? wp_value_new_some(prim(ret)) : wp_value_new_none(), list(values, nv)};
  return call(g, "call-numbers", args, 5);
}

static wp_value *num(const char *type, wp_value *payload) {
  return wp_value_new_variant(type, payload);
}

static void test_numbers(void **state) {
  (void)state;
  guest g = guest_new(granted);
  wp_value *t1[] = {prim("int32-t"), prim("int32-t")};
  wp_value *v1[] = {num("int32-t", wp_value_new_s32(40)), num("int32-t", wp_value_new_s32(2))};
  wp_value *r = numbers(&g, "add_i32", t1, 2, "int32-t", v1, 2);
  const wp_value *got = wp_value_get_payload(ok_of(r));
  assert_string_equal(wp_value_get_case(got), "int32-t");
  assert_int_equal(wp_value_get_int(wp_value_get_payload(got)), 42);
  wp_value_free(r);
  /* A result narrower than a register: libffi widens it, the host narrows it. */
  wp_value *t2[] = {prim("int8-t")};
  wp_value *v2[] = {num("int8-t", wp_value_new_s8(5))};
  r = numbers(&g, "neg_i8", t2, 1, "int8-t", v2, 1);
  assert_int_equal(wp_value_get_int(wp_value_get_payload(wp_value_get_payload(ok_of(r)))), -5);
  wp_value_free(r);
  wp_value *t3[] = {prim("c-double"), prim("c-float")};
  wp_value *v3[] = {num("c-double", wp_value_new_f64(1.5)), num("c-float", wp_value_new_f32(2))};
  r = numbers(&g, "scale", t3, 2, "c-double", v3, 2);
  assert_true(wp_value_get_f64(wp_value_get_payload(wp_value_get_payload(ok_of(r)))) == 3.0);
  wp_value_free(r);
  guest_free(&g);
}

/* A native crash in process isolation: only the worker dies; the call is a
   trap naming the signal, and the next call works on a fresh worker. (In the
   host's process the same call would end the host: not tested, for that.) */
static void test_native_crash_isolated(void **state) {
  (void)state;
  guest g = guest_load(granted, true);
  for (int round = 0; round < 3; round++) {
    wp_value *t1[] = {prim("int32-t"), prim("int32-t")};
    wp_value *v1[] = {num("int32-t", wp_value_new_s32(40)), num("int32-t", wp_value_new_s32(2))};
    wp_value *r = numbers(&g, "add_i32", t1, 2, "int32-t", v1, 2);
    assert_int_equal(wp_value_get_int(wp_value_get_payload(wp_value_get_payload(ok_of(r)))), 42);
    wp_value_free(r);
    wp_value *t2[] = {prim("int32-t")};
    wp_value *v2[] = {num("int32-t", wp_value_new_s32(7))};
    wp_value *args[] = {s(HELLO), s("crash_null"), list(t2, 1), wp_value_new_some(prim("int32-t")),
                        list(v2, 1)};
    wp_value *res = NULL;
    wp_error *err = wp_instance_invoke(g.inst, "call-numbers", (const wp_value *const *)args, 5,
                                       &res);
    for (size_t i = 0; i < 5; i++) wp_value_free(args[i]);
    assert_null(res);
    assert_error(err, WP_ERR_TRAP, "SIGSEGV");
  }
  guest_free(&g);
}

/* ---- what is not granted, or fails, is an error naming it ------------------------------- */

static wp_value *open_lib(guest *g, const char *name, const char *flag) {
  wp_value *args[] = {name ? wp_value_new_some(s(name)) : wp_value_new_none(), flags1(flag)};
  return call(g, "open", args, 2);
}

static wp_value *get_sym(guest *g, const char *lib, const char *sym) {
  wp_value *args[] = {s(lib), s(sym)};
  return call(g, "get", args, 2);
}

static wp_value *function(guest *g, const char *lib, const char *sym, wp_value **types, size_t n,
                          wp_value *ret) {
  wp_value *args[] = {s(lib), s(sym), list(types, n),
                      ret ? wp_value_new_some(ret) : wp_value_new_none()};
  return call(g, "function", args, 4);
}

static wp_value *read_string(guest *g, const char *sym) {
  wp_value *args[] = {s(HELLO), s(sym)};
  return call(g, "read-string", args, 2);
}

static void test_refusals(void **state) {
  (void)state;
  guest g = guest_new(granted);
  /* Library not granted. */
  assert_err_has(open_lib(&g, "libm.so.6", "now"), "library 'libm.so.6' is not granted",
                 "capabilities.dl.libraries grants: libz.so.1, " HELLO, NULL);
  assert_hello(&g);
  /* Symbol not granted. */
  assert_err_has(get_sym(&g, "libz.so.1", "compress"),
                 "symbol 'compress' of library 'libz.so.1' is not granted",
                 "capabilities.dl.libraries.libz.so.1.symbols grants: crc32, zlibVersion", NULL);
  assert_hello(&g);
  /* A signature other than the pinned one: both are named. */
  wp_value *t1[] = {prim("c-int")};
  assert_err_has(function(&g, "libz.so.1", "crc32", t1, 1, prim("c-ulong")),
                 "symbol 'crc32' of library 'libz.so.1' is pinned to (c-ulong, pointer, c-uint) "
                 "-> c-ulong",
                 "the plugin asked for (c-int) -> c-ulong", NULL);
  assert_err_has(function(&g, "libz.so.1", "zlibVersion", NULL, 0, NULL), "pinned to () -> pointer",
                 "asked for () -> void", NULL);
  assert_hello(&g);
  /* A granted library that is not there: dlopen's message. */
  assert_err_has(open_lib(&g, "libwp-no-such-library.so", "now"),
                 "cannot open library 'libwp-no-such-library.so'",
                 "libwp-no-such-library.so: cannot open shared object file", NULL);
  assert_hello(&g);
  /* A granted symbol that is not there: dlsym's message. */
  assert_err_has(get_sym(&g, HELLO, "no_such_symbol"),
                 "symbol 'no_such_symbol' not found in library '" HELLO "'", "undefined symbol",
                 NULL);
  assert_hello(&g);
  /* Bad FFI types. */
  wp_value *t2[] = {wp_value_new_variant("struct", list(NULL, 0))};
  assert_err_has(function(&g, HELLO, "scale", t2, 1, prim("c-double")),
                 "parameter 0: bad FFI type: a struct of 0 fields", NULL);
  assert_hello(&g);
  /* A value not of its parameter's type, and a wrong count. */
  wp_value *t3[] = {prim("int32-t"), prim("int32-t")};
  wp_value *v3[] = {num("c-int", wp_value_new_s32(1)), num("int32-t", wp_value_new_s32(2))};
  assert_err_has(numbers(&g, "add_i32", t3, 2, "int32-t", v3, 2),
                 "'add_i32' argument 0: a c-int value where the type is int32-t", NULL);
  wp_value *t4[] = {prim("int32-t"), prim("int32-t")};
  wp_value *v4[] = {num("int32-t", wp_value_new_s32(1))};
  assert_err_has(numbers(&g, "add_i32", t4, 2, "int32-t", v4, 1),
                 "'add_i32' takes 2 arguments, 1 given", NULL);
  assert_hello(&g);
  /* The main program and the global flag need their own grants. */
  assert_err_has(open_lib(&g, NULL, "now"), "main program (name none) is not granted",
                 "capabilities.dl.main", NULL);
  assert_err_has(open_lib(&g, HELLO, "global"), "the global flag is not granted", NULL);
  /* Strings: not UTF-8, NULL. */
  assert_err_has(read_string(&g, "latin1"), "alloc.read-string: the 4 bytes are not UTF-8", NULL);
  assert_err_has(read_string(&g, "null_string"), "alloc.read-string: the pointer is NULL", NULL);
  assert_hello(&g);
  guest_free(&g);
}

static void test_not_granted(void **state) {
  (void)state;
  guest g = guest_new(NULL);
  wp_value *args[] = {s(HELLO)};
  assert_err_has(call(&g, "hello", args, 1), "library.open: wasi:dl is not granted",
                 "capabilities.dl", NULL);
  uint8_t data[4] = {1, 2, 3, 4};
  wp_value *args2[] = {wp_value_new_bytes(data, 4)};
  assert_err_has(call(&g, "crc32", args2, 1), "capabilities.dl", NULL);
  wp_value *r = call(&g, "names", NULL, 0); /* the instance goes on */
  assert_string_equal(wp_value_get_string(r, NULL), "lib so .so");
  wp_value_free(r);
  guest_free(&g);
  /* An empty section grants nothing either, but names what is missing. */
  g = guest_new("{}");
  assert_err_has(open_lib(&g, HELLO, "now"), "is not granted",
                 "capabilities.dl.libraries grants: none", NULL);
  guest_free(&g);
}

/* The main program, the global flag and flags that contradict each other. */
static void test_open_grants(void **state) {
  (void)state;
  guest g = guest_new("{\"main\": {\"symbols\": {\"getpid\": {\"args\": [], \"ret\": "
                      "\"c-int\"}}}, \"libraries\": {\"" HELLO "\": {\"symbols\": {\"hello\": "
                      "null}, \"global\": true}}}");
  wp_value *r = open_lib(&g, NULL, "lazy");
  ok_of(r);
  wp_value_free(r);
  r = open_lib(&g, HELLO, "global");
  ok_of(r);
  wp_value_free(r);
  wp_value *args[] = {wp_value_new_none(), wp_value_new_flags((const char *[]){"lazy", "now"}, 2)};
  assert_err_has(call(&g, "open", args, 2), "flags lazy and now together", NULL);
  assert_err_has(open_lib(&g, "libz.so.1", "now"), "library 'libz.so.1' is not granted", NULL);
  assert_err_has(open_lib(&g, NULL, "global"), "the global flag is not for the main program", NULL);
  assert_hello(&g);
  guest_free(&g);
}

#endif

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_manifest),
#if WP_DL_COMPONENT
      cmocka_unit_test(test_hello),
      cmocka_unit_test(test_zlib),
      cmocka_unit_test(test_structs),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_native_crash_isolated),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_not_granted),
      cmocka_unit_test(test_open_grants),
      cmocka_unit_test(test_pointers),
      cmocka_unit_test(test_budget),
#endif
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
