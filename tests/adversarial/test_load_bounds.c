/*
 * test_load_bounds.c - issue 7, item 5: loading has a bound.
 *
 * A valid module of a few hundred thousand empty functions takes seconds
 * and gigabytes to compile. These tests check that such plugins (core
 * modules and components, binary and text) are refused before compiling,
 * with a WP_ERR_LOAD that names the cap, the count and how to raise it;
 * that the engine can raise the caps and a manifest can only lower them;
 * that the function scanner reads imports, nested modules and components
 * right and leaves malformed bytes to Wasmtime; and that the engine works
 * for the next plugin after every refusal. Fixtures are generated here.
 */
#include "adv.h"

#include <unistd.h>

#include <wasmtime.h>

#include "plugin/bounds.h"

/* ---- building wasm binaries ------------------------------------------------ */

typedef struct buf {
  uint8_t *data;
  size_t len, cap;
} buf;

static void put(buf *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    b->cap = (b->len + len) * 2 + 64;
    b->data = realloc(b->data, b->cap);
    assert_non_null(b->data);
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void put_byte(buf *b, uint8_t byte) { put(b, &byte, 1); }

static void put_leb(buf *b, uint64_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    put_byte(b, byte | (v ? 0x80 : 0));
  } while (v);
}

static void put_name(buf *b, const char *name) {
  put_leb(b, strlen(name));
  put(b, name, strlen(name));
}

/* Section `id` holding `content` (freed). */
static void put_section(buf *b, uint8_t id, buf *content) {
  put_byte(b, id);
  put_leb(b, content->len);
  put(b, content->data, content->len);
  free(content->data);
  *content = (buf){0};
}

static const uint8_t MODULE_HEADER[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};

/*
 * A module with one type, () -> (), `imports` function imports after one
 * import each of a table, a memory, a global and a tag (which the scanner
 * must step over), and `n` empty functions.
 */
static buf module_with(uint32_t n, uint32_t imports) {
  buf m = {0}, s = {0};

  put(&m, MODULE_HEADER, 8);
  put_leb(&s, 1);
  put(&s, (const uint8_t[]){0x60, 0, 0}, 3);
  put_section(&m, 1, &s);
  if (imports) {
    put_leb(&s, imports + 4);
    put_name(&s, "env"), put_name(&s, "t"), put(&s, (const uint8_t[]){1, 0x70, 1, 1, 10}, 5);
    put_name(&s, "env"), put_name(&s, "m"), put(&s, (const uint8_t[]){2, 5, 1, 2}, 4);
    put_name(&s, "env"), put_name(&s, "g"), put(&s, (const uint8_t[]){3, 0x64, 0x70, 1}, 4);
    put_name(&s, "env"), put_name(&s, "e"), put(&s, (const uint8_t[]){4, 0, 0}, 3);
    for (uint32_t i = 0; i < imports; i++)
      put_name(&s, "env"), put_name(&s, "f"), put(&s, (const uint8_t[]){0, 0}, 2);
    put_section(&m, 2, &s);
  }
  put_leb(&s, n);
  for (uint32_t i = 0; i < n; i++) put_byte(&s, 0);
  put_section(&m, 3, &s);
  put_leb(&s, n);
  for (uint32_t i = 0; i < n; i++) put(&s, (const uint8_t[]){2, 0, 0x0b}, 3);
  put_section(&m, 10, &s);
  return m;
}

/*
 * A module importing WASI's sched_yield `n` times and defining nothing: it
 * counts `n` functions, but loads and links in a fraction of a second.
 */
static buf module_importing(uint32_t n) {
  buf m = {0}, s = {0};

  put(&m, MODULE_HEADER, 8);
  put_leb(&s, 1);
  put(&s, (const uint8_t[]){0x60, 0, 1, 0x7F}, 4);
  put_section(&m, 1, &s);
  put_leb(&s, n);
  for (uint32_t i = 0; i < n; i++)
    put_name(&s, "wasi_snapshot_preview1"), put_name(&s, "sched_yield"), put_byte(&s, 0),
        put_byte(&s, 0);
  put_section(&m, 2, &s);
  return m;
}

/* `n` components nested in each other, the innermost holding `inner`. */
static buf nested_components(unsigned n, const buf *inner) {
  static const uint8_t header[8] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
  buf c = {0}, next;

  put(&c, header, 8);
  if (inner) {
    buf copy = {0};
    put(&copy, inner->data, inner->len);
    put_section(&c, 1, &copy);
  }
  while (n--) {
    next = (buf){0};
    put(&next, header, 8);
    put_section(&next, 4, &c);
    c = next;
  }
  return c;
}

/* ---- helpers ------------------------------------------------------------- */

static wp_engine *engine_with_caps(uint64_t size, uint32_t functions) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine *e = NULL;
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 0);
  wp_engine_config_set_max_module_size(cfg, size);
  wp_engine_config_set_max_functions(cfg, functions);
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

static wp_error *load(wp_engine *e, const buf *b, const wp_manifest *m) {
  wp_plugin *p = NULL;
  wp_error *err = wp_plugin_load_bytes(e, "gen", b->data, b->len, m, &p);
  wp_plugin_free(p);
  return err;
}

/* ---- the function cap ------------------------------------------------------ */

/* The point of the cap: refused in well under a second, not compiled. */
WP_TEST(test_300k_functions_refused_before_compiling) {
  wp_engine *e = test_engine(); /* default caps, pooling on */
  buf b = module_with(300000, 0);
  double start = adv_now_ms();
  wp_error *err = load(e, &b, NULL);
  double took = (adv_now_ms() - start) / 1e3;
  assert_error(err, WP_ERR_LOAD,
               "plugin 'gen': 300000 functions (0 imported, 300000 defined), "
               "more than the function limit of 100000; raise the engine's "
               "cap with wp_engine_config_set_max_functions (CLI: "
               "--max-functions)");
  print_message("300000 functions refused in %.3f s\n", took);
  assert_true(took < 1.0);
  adv_engine_still_works(e);
  free(b.data);
  wp_engine_free(e);
}

/* As text: the size and function caps apply to .wat too. */
WP_TEST(test_functions_in_text_refused) {
  wp_engine *e = engine_with_caps(0, 1000);
  size_t n = 1001, len = 0;
  char *wat = malloc(16 + n * 7);
  assert_non_null(wat);
  len += (size_t)sprintf(wat, "(module");
  for (size_t i = 0; i < n; i++) len += (size_t)sprintf(wat + len, " (func)");
  len += (size_t)sprintf(wat + len, ")");
  wp_plugin *p = NULL;
  assert_error(wp_plugin_load_bytes(e, "text.wat", wat, len, NULL, &p), WP_ERR_LOAD,
               "1001 functions (0 imported, 1001 defined), more than the function limit of 1000");
  assert_null(p);
  adv_engine_still_works(e);
  free(wat);
  wp_engine_free(e);
}

/* The engine sets the cap, below or above the default. */
WP_TEST(test_engine_sets_function_cap) {
  wp_engine *low = engine_with_caps(0, 1000), *dflt = test_engine(), *high;
  buf at = module_with(1000, 0), over = module_with(1001, 0), big = module_importing(100001);

  assert_ok(load(low, &at, NULL));
  assert_error(load(low, &over, NULL), WP_ERR_LOAD, "function limit of 1000");
  adv_engine_still_works(low);
  assert_error(load(dflt, &big, NULL), WP_ERR_LOAD,
               "100001 functions (100001 imported, 0 defined), more than the function limit of "
               "100000");
  adv_engine_still_works(dflt);
  /* Raised above the default, the same module loads. */
  high = engine_with_caps(0, 100001);
  assert_ok(load(high, &big, NULL));
  adv_engine_still_works(high);
  free(at.data), free(over.data), free(big.data);
  wp_engine_free(low), wp_engine_free(dflt), wp_engine_free(high);
}

/* A manifest lowers the caps, and cannot raise them. */
WP_TEST(test_manifest_lowers_caps) {
  wp_engine *e = engine_with_caps(64u << 10, 1000);
  wp_manifest *m = wp_manifest_new();
  buf eleven = module_with(11, 0), ten = module_with(10, 0);
  char want[160];

  wp_manifest_set_max_functions(m, 10);
  assert_ok(load(e, &ten, m));
  assert_error(load(e, &eleven, m), WP_ERR_LOAD,
               "11 functions (0 imported, 11 defined), more than the function limit of 10 set "
               "by the manifest (limits.functions); raise it there, up to the engine's cap of "
               "1000");
  wp_manifest_set_max_functions(m, 1001);
  assert_error(load(e, &ten, m), WP_ERR_BAD_INPUT,
               "manifest function limit 1001 is above the engine's maximum 1000; lower it or "
               "raise wp_engine_config_set_max_functions");
  wp_manifest_set_max_functions(m, 0);
  wp_manifest_set_max_module_size(m, 40);
  snprintf(want, sizeof want,
           "the plugin is %zu bytes, more than the module size limit of 40 "
           "bytes set by the manifest (limits.module_size); raise it there, up to the "
           "engine's cap of 64 KiB",
           ten.len);
  assert_error(load(e, &ten, m), WP_ERR_LOAD, want);
  wp_manifest_set_max_module_size(m, (64u << 10) + 1);
  assert_error(load(e, &ten, m), WP_ERR_BAD_INPUT,
               "manifest module size limit 65537 bytes is above the engine's maximum 64 KiB");
  adv_engine_still_works(e);
  wp_manifest_free(m);
  free(eleven.data), free(ten.data);
  wp_engine_free(e);
}

/* ---- the size cap -------------------------------------------------------- */

WP_TEST(test_module_size_cap) {
  wp_engine *e = engine_with_caps(64u << 10, 0);
  buf b = module_with(1, 0), custom = {0};
  size_t wat_len = (64u << 10) + 1;
  char *wat = malloc(wat_len), want[200];
  wp_plugin *p = NULL;

  /* A custom section of padding takes the binary over 64 KiB. */
  put_name(&custom, "pad");
  for (size_t i = 0; i < (64u << 10); i++) put_byte(&custom, 0);
  put_section(&b, 0, &custom);
  snprintf(want, sizeof want,
           "plugin 'gen': the plugin is %zu bytes, more than the module size "
           "limit of 64 KiB; raise the engine's cap with wp_engine_config_set_max_module_size "
           "(CLI: --max-module-size)",
           b.len);
  assert_error(load(e, &b, NULL), WP_ERR_LOAD, want);
  /* Text over the cap is refused before it is parsed. */
  assert_non_null(wat);
  memset(wat, ' ', wat_len);
  memcpy(wat, "(module)", 8);
  assert_error(wp_plugin_load_bytes(e, "big.wat", wat, wat_len, NULL, &p), WP_ERR_LOAD,
               "plugin 'big.wat': the .wat text is 65537 bytes, more than the module size "
               "limit of 64 KiB");
  assert_ok(wp_plugin_load_bytes(e, "small.wat", wat, wat_len - 1, NULL, &p));
  wp_plugin_free(p);
  adv_engine_still_works(e);
  free(wat);
  free(b.data);
  wp_engine_free(e);
}

/*
 * A file over the cap is refused before it is read: a sparse 1 TiB file
 * would otherwise be read into memory (or fail to be) before any check.
 */
WP_TEST(test_huge_file_refused_unread) {
  char path[] = "/tmp/wp_huge_XXXXXX";
  int fd = mkstemp(path);
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_plugin *p = NULL;

  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)1 << 40), 0);
  close(fd);
  double start = adv_now_ms();
  assert_error(wp_plugin_load(e, path, NULL, &p), WP_ERR_LOAD,
               "the file is 1024 GiB, more than the module size limit of 128 MiB; raise the "
               "engine's cap with wp_engine_config_set_max_module_size");
  assert_true(adv_now_ms() - start < 1000);
  assert_null(p);
  /* With a lower cap from the manifest, that one is named. */
  assert_ok(wp_manifest_set_name(m, "huge"));
  wp_manifest_set_max_module_size(m, 1u << 20);
  assert_error(wp_plugin_load(e, path, m, &p), WP_ERR_LOAD,
               "plugin 'huge': the file is 1024 GiB, more than the module size limit of 1 MiB "
               "set by the manifest (limits.module_size)");
  unlink(path);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* ---- what counts as a function ---------------------------------------------- */

/* Function imports count, other imports do not. */
WP_TEST(test_imports_counted) {
  wp_engine *e = engine_with_caps(0, 4);
  buf b = module_with(2, 3);
  wp_wasm_counts c;

  wp_wasm_count(b.data, b.len, &c);
  assert_int_equal(c.imported, 3);
  assert_int_equal(c.defined, 2);
  assert_int_equal(c.modules, 1);
  assert_false(c.incomplete);
  assert_error(load(e, &b, NULL), WP_ERR_LOAD,
               "5 functions (3 imported, 2 defined), more than the function limit of 4");
  adv_engine_still_works(e);
  free(b.data);
  wp_engine_free(e);
}

/*
 * The compact import encodings (one module name for many imports) count
 * their function imports too, and an exact-function import (0x20) is one.
 */
WP_TEST(test_compact_imports_counted) {
  buf m = {0}, s = {0};
  wp_wasm_counts c;

  put(&m, MODULE_HEADER, 8);
  put_leb(&s, 3);
  /* (name, type) pairs: two functions and a memory */
  put_name(&s, "env"), put_name(&s, ""), put_byte(&s, 0x7F), put_leb(&s, 3);
  put_name(&s, "a"), put(&s, (const uint8_t[]){0, 0}, 2);
  put_name(&s, "b"), put(&s, (const uint8_t[]){0x20, 0}, 2);
  put_name(&s, "c"), put(&s, (const uint8_t[]){2, 0, 1}, 3);
  /* one type, four names: functions */
  put_name(&s, "env"), put_name(&s, ""), put_byte(&s, 0x7E), put(&s, (const uint8_t[]){0, 0}, 2);
  put_leb(&s, 4), put_name(&s, "d"), put_name(&s, "e"), put_name(&s, "f"), put_name(&s, "g");
  /* one type, two names: globals, not functions */
  put_name(&s, "env"), put_name(&s, ""), put_byte(&s, 0x7E),
      put(&s, (const uint8_t[]){3, 0x7F, 0}, 3);
  put_leb(&s, 2), put_name(&s, "h"), put_name(&s, "i");
  put_section(&m, 2, &s);
  wp_wasm_count(m.data, m.len, &c);
  assert_false(c.incomplete);
  assert_int_equal(c.imported, 6);
  free(m.data);
}

/* A component: the functions of every core module in it, nested
   components included, plus its canonical functions. */
WP_TEST(test_component_functions_counted) {
  static const char wat[] = "(component\n"
                            "  (import \"host\" (func $h))\n"
                            "  (core func $l (canon lower (func $h)))\n"
                            "  (core module $a (func) (func))\n"
                            "  (component $inner (core module (func) (func) (func)))\n"
                            ")";
  wp_engine *e = engine_with_caps(0, 5);
  wp_plugin *p = NULL;
  assert_error(wp_plugin_load_bytes(e, "comp.wat", wat, strlen(wat), NULL, &p), WP_ERR_LOAD,
               "6 functions (0 imported and 5 defined in 2 core modules, 1 canonical ABI), "
               "more than the function limit of 5");
  adv_engine_still_works(e);
  wp_engine_free(e);

  /* A big module deep inside a component is found, and refused quickly. */
  e = test_engine();
  buf big = module_with(300000, 0), comp = nested_components(5, &big);
  double start = adv_now_ms();
  assert_error(load(e, &comp, NULL), WP_ERR_LOAD,
               "300000 functions (0 imported and 300000 defined in 1 core modules");
  assert_true(adv_now_ms() - start < 1000);
  adv_engine_still_works(e);
  free(big.data), free(comp.data);
  wp_engine_free(e);
}

WP_TEST(test_components_nested_too_deep) {
  wp_engine *e = test_engine();
  buf ok = nested_components(WP_BOUNDS_MAX_DEPTH, NULL);
  buf deep = nested_components(WP_BOUNDS_MAX_DEPTH + 1, NULL);
  wp_wasm_counts c;

  wp_wasm_count(ok.data, ok.len, &c);
  assert_false(c.too_deep);
  assert_false(c.incomplete);
  wp_wasm_count(deep.data, deep.len, &c);
  assert_true(c.too_deep);
  assert_error(load(e, &deep, NULL), WP_ERR_LOAD,
               "components are nested more than 32 deep, which wasmplug refuses");
  adv_engine_still_works(e);
  free(ok.data), free(deep.data);
  wp_engine_free(e);
}

/* ---- malformed bytes are Wasmtime's to judge --------------------------------- */

/* Wasmtime's own verdict on `b`: its validation message, or NULL if valid. */
static char *wasmtime_verdict(const buf *b) {
  wasm_engine_t *engine = wasm_engine_new();
  wasmtime_error_t *werr = wasmtime_module_validate(engine, b->data, b->len);
  char *msg = NULL;
  if (werr) {
    wasm_name_t text;
    wasmtime_error_message(werr, &text);
    msg = strndup(text.data, text.size);
    wasm_byte_vec_delete(&text);
    wasmtime_error_delete(werr);
  }
  wasm_engine_delete(engine);
  return msg;
}

/* Our error for malformed bytes is Wasmtime's, not a cap we made up. */
static void malformed_as_wasmtime_says(wp_engine *e, const buf *b) {
  char *want = wasmtime_verdict(b);
  wp_error *err = load(e, b, NULL);
  assert_non_null(want);
  assert_non_null(err);
  if (wp_error_get_kind(err) != WP_ERR_LOAD || !strstr(wp_error_get_message(err), want) ||
      strstr(wp_error_get_message(err), "limit")) {
    print_error("expected Wasmtime's '%s', got: %s\n", want, wp_error_get_message(err));
    fail();
  }
  wp_error_free(err);
  free(want);
}

WP_TEST(test_malformed_left_to_wasmtime) {
  wp_engine *e = test_engine();
  buf good = module_with(50, 3), b;
  static const uint8_t bad_tails[][7] = {
      {3, 0xff, 0xff, 0xff, 0xff, 0x7f},  /* a section size of more than 32 bits */
      {3, 0x85, 0x80, 0x80, 0x80, 0x00},  /* an overlong size LEB */
      {3, 0x10, 0x01},                     /* a section longer than the module */
      {10, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f}, /* 2^32-1 bodies in a 5-byte section */
  };

  for (size_t i = 0; i < sizeof bad_tails / sizeof bad_tails[0]; i++) {
    b = (buf){0};
    put(&b, MODULE_HEADER, 8);
    put(&b, bad_tails[i], i == 2 ? 3 : i == 3 ? 7 : 6);
    malformed_as_wasmtime_says(e, &b);
    free(b.data);
  }
  /* Cut anywhere, the module is Wasmtime's to refuse. */
  for (size_t cut = 9; cut < good.len; cut += 37) {
    b = (buf){0};
    put(&b, good.data, cut);
    malformed_as_wasmtime_says(e, &b);
    free(b.data);
  }
  adv_engine_still_works(e);
  free(good.data);
  wp_engine_free(e);
}

/*
 * The scanner reads untrusted bytes: on any prefix it counts no more than
 * on the whole, and no flipped byte makes it read out of bounds (the
 * sanitizer build checks that) or loop.
 */
WP_TEST(test_scanner_on_broken_bytes) {
  buf inner = module_with(40, 5), comp = nested_components(3, &inner);
  const buf *inputs[2] = {&inner, &comp};
  wp_wasm_counts whole, part;
  unsigned seed = 7;

  for (size_t k = 0; k < 2; k++) {
    const buf *in = inputs[k];
    uint8_t *copy = malloc(in->len);
    assert_non_null(copy);
    wp_wasm_count(in->data, in->len, &whole);
    assert_false(whole.incomplete);
    assert_int_equal(wp_wasm_counts_total(&whole), 45);
    for (size_t cut = 0; cut < in->len; cut++) {
      memcpy(copy, in->data, cut); /* a copy of exactly `cut` bytes: ASan sees overreads */
      wp_wasm_count(copy, cut, &part);
      assert_true(wp_wasm_counts_total(&part) <= wp_wasm_counts_total(&whole));
    }
    for (int round = 0; round < 20000; round++) {
      memcpy(copy, in->data, in->len);
      for (int flips = 0; flips < 3; flips++) {
        seed = seed * 1103515245u + 12345u;
        copy[(seed >> 8) % in->len] = (uint8_t)(seed >> 20);
      }
      wp_wasm_count(copy, in->len, &part);
    }
    free(copy);
  }
  free(inner.data), free(comp.data);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_300k_functions_refused_before_compiling),
      cmocka_unit_test(test_functions_in_text_refused),
      cmocka_unit_test(test_engine_sets_function_cap),
      cmocka_unit_test(test_manifest_lowers_caps),
      cmocka_unit_test(test_module_size_cap),
      cmocka_unit_test(test_huge_file_refused_unread),
      cmocka_unit_test(test_imports_counted),
      cmocka_unit_test(test_compact_imports_counted),
      cmocka_unit_test(test_component_functions_counted),
      cmocka_unit_test(test_components_nested_too_deep),
      cmocka_unit_test(test_malformed_left_to_wasmtime),
      cmocka_unit_test(test_scanner_on_broken_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
