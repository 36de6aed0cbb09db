/*
 * test_manifest.c - unit tests for src/plugin/manifest.c: the JSON schema
 * and its error messages, the setters, copying, sizes and sha256 pins.
 *
 * Standalone (no other part of the library needed):
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
 *       -DWP_MANIFEST_STANDALONE_TEST -I include -I src \
 *       -fsanitize=address,undefined src/plugin/manifest.c src/util/utf8.c \
 *       tests/unit/test_manifest.c -lcjson -lcmocka -o /tmp/test_manifest
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/manifest.h"
#include "util/utf8.h"

/* ------------------------------------------------------------------------ */
/* A throwaway wp_error, for building without src/engine/error.c            */
/* ------------------------------------------------------------------------ */

#ifdef WP_MANIFEST_STANDALONE_TEST
struct wp_error {
  wp_error_kind kind;
  char *message;
};

static char oom_message[] = "out of memory";
static struct wp_error oom_error = {WP_ERR_HOST, oom_message};

wp_error *wp_error_new(wp_error_kind kind, const char *fmt, ...) {
  wp_error *err = malloc(sizeof *err);
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (!err || n < 0 || !(err->message = malloc((size_t)n + 1))) {
    free(err);
    return &oom_error;
  }
  va_start(ap, fmt);
  vsnprintf(err->message, (size_t)n + 1, fmt, ap);
  va_end(ap);
  err->kind = kind;
  return err;
}

void wp_error_free(wp_error *err) {
  if (!err || err == &oom_error) return;
  free(err->message);
  free(err);
}

wp_error_kind wp_error_get_kind(const wp_error *err) { return err->kind; }

const char *wp_error_get_message(const wp_error *err) { return err->message; }
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

#define SHA_HEX "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static wp_manifest *parse_in(const char *json, const char *base_dir) {
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(json, strlen(json), base_dir, &m);

  if (err) fail_msg("unexpected error: %s", wp_error_get_message(err));
  assert_non_null(m);
  return m;
}

static wp_manifest *parse_ok(const char *json) { return parse_in(json, NULL); }

/*
 * Checks that `err` is of `kind` and that its message holds each of the
 * NULL-terminated substrings; frees it. Names the caller's line on failure.
 */
static void check_error_v(int line, wp_error *err, wp_error_kind kind, va_list ap) {
  const char *msg, *want;

  if (!err) fail_msg("line %d: expected an error, got success", line);
  msg = wp_error_get_message(err);
  if (wp_error_get_kind(err) != kind)
    fail_msg("line %d: kind %d, expected %d (%s)", line, wp_error_get_kind(err), kind, msg);
  while ((want = va_arg(ap, const char *)))
    if (!strstr(msg, want)) fail_msg("line %d: message \"%s\" lacks \"%s\"", line, msg, want);
  wp_error_free(err);
}

static void check_error_at(int line, wp_error *err, wp_error_kind kind, ...) {
  va_list ap;

  va_start(ap, kind);
  check_error_v(line, err, kind, ap);
  va_end(ap);
}

/* Parses `json`, which must fail with WP_ERR_BAD_INPUT, leaving *out alone. */
static void parse_fails_at(int line, const char *json, ...) {
  wp_manifest *sentinel = (wp_manifest *)&sentinel, *m = sentinel;
  wp_error *err = wp_manifest_parse(json, strlen(json), NULL, &m);
  va_list ap;

  if (m != sentinel) fail_msg("line %d: *out was changed on failure", line);
  va_start(ap, json);
  check_error_v(line, err, WP_ERR_BAD_INPUT, ap);
  va_end(ap);
}

#define CHECK_ERROR(err, kind, ...) check_error_at(__LINE__, err, kind, __VA_ARGS__, NULL)
#define PARSE_FAILS(json, ...) parse_fails_at(__LINE__, json, __VA_ARGS__, NULL)

static void check_defaults(const wp_manifest *m) {
  assert_null(m->name);
  assert_int_equal(m->max_module_size, 0);
  assert_int_equal(m->max_functions, 0);
  assert_null(m->source_path);
  assert_false(m->has_sha256);
  assert_int_equal(m->max_memory, 0);
  assert_int_equal(m->timeout_ms, 0);
  assert_int_equal(m->fuel, 0);
  assert_int_equal(m->ndirs, 0);
  assert_int_equal(m->nenv, 0);
  assert_int_equal(m->nargs, 0);
  assert_false(m->has_stdin);
  assert_int_equal(m->stdin_len, 0);
  assert_int_equal(m->out.mode, WP_STDIO_DISCARD);
  assert_int_equal(m->err.mode, WP_STDIO_DISCARD);
  assert_int_equal(m->nconfig, 0);
}

/* ------------------------------------------------------------------------ */
/* Valid manifests                                                          */
/* ------------------------------------------------------------------------ */

static void test_full_manifest(void **state) {
  (void)state;
  wp_manifest *m = parse_ok(
      "{\n"
      "  \"name\": \"auth\",\n"
      "  \"sources\": [{\"path\": \"/plugins/auth.wasm\", \"sha256\": \"" SHA_HEX "\"}],\n"
      "  \"limits\": {\"memory\": \"16MiB\", \"timeout_ms\": 50, \"fuel\": 1000000},\n"
      "  \"wasi\": {\n"
      "    \"dirs\": [{\"host\": \"/srv/data\", \"guest\": \"/data\", \"mode\": \"ro\"},\n"
      "             {\"host\": \"/tmp/out\", \"mode\": \"rw\"}],\n"
      "    \"env\": {\"LANG\": \"C\", \"TZ\": \"UTC\"},\n"
      "    \"args\": [\"auth\", \"--strict\"],\n"
      "    \"stdin\": \"text given to the plugin\",\n"
      "    \"stdout\": \"capture\",\n"
      "    \"stderr\": \"inherit\"\n"
      "  },\n"
      "  \"config\": {\"greeting\": \"Hello\", \"empty\": \"\"}\n"
      "}\n");

  assert_string_equal(m->name, "auth");
  assert_string_equal(m->source_path, "/plugins/auth.wasm");
  assert_true(m->has_sha256);
  assert_int_equal(m->sha256[0], 0x9f);
  assert_int_equal(m->sha256[1], 0x86);
  assert_int_equal(m->sha256[31], 0x08);
  assert_int_equal(m->max_memory, 16u << 20);
  assert_int_equal(m->timeout_ms, 50);
  assert_int_equal(m->fuel, 1000000);

  assert_int_equal(m->ndirs, 2);
  assert_string_equal(m->dirs[0].host, "/srv/data");
  assert_string_equal(m->dirs[0].guest, "/data");
  assert_false(m->dirs[0].writable);
  assert_string_equal(m->dirs[1].host, "/tmp/out");
  assert_string_equal(m->dirs[1].guest, "/tmp/out"); /* guest defaults to host */
  assert_true(m->dirs[1].writable);

  assert_int_equal(m->nenv, 2);
  assert_string_equal(m->env[0].key, "LANG");
  assert_string_equal(m->env[0].value, "C");
  assert_string_equal(m->env[1].key, "TZ");
  assert_string_equal(m->env[1].value, "UTC");

  assert_int_equal(m->nargs, 2);
  assert_string_equal(m->args[0], "auth");
  assert_string_equal(m->args[1], "--strict");

  assert_true(m->has_stdin);
  assert_int_equal(m->stdin_len, strlen("text given to the plugin"));
  assert_memory_equal(m->stdin_data, "text given to the plugin", m->stdin_len);
  assert_int_equal(m->out.mode, WP_STDIO_CAPTURE);
  assert_int_equal(m->err.mode, WP_STDIO_INHERIT);

  assert_int_equal(m->nconfig, 2);
  assert_string_equal(wp_manifest_config_get(m, "greeting", 8), "Hello");
  assert_string_equal(wp_manifest_config_get(m, "empty", 5), "");
  wp_manifest_free(m);
}

static void test_defaults(void **state) {
  (void)state;
  wp_manifest *m = wp_manifest_new();

  check_defaults(m);
  wp_manifest_free(m);

  m = parse_ok("{}");
  check_defaults(m);
  wp_manifest_free(m);

  m = parse_ok(" \n\t{ \"limits\": {}, \"wasi\": {\"dirs\": [], \"args\": []},"
               " \"config\": {} }\r\n");
  check_defaults(m);
  wp_manifest_free(m);

  /* A dir's mode defaults to read-only; the source's sha256 is optional. */
  m = parse_ok("{\"sources\": [{\"path\": \"a.wasm\"}],"
               " \"wasi\": {\"dirs\": [{\"host\": \"/d\"}]}}");
  assert_string_equal(m->source_path, "a.wasm"); /* no base_dir: left as it is */
  assert_false(m->has_sha256);
  assert_false(m->dirs[0].writable);
  wp_manifest_free(m);
}

static void test_numbers_and_sizes_in_json(void **state) {
  (void)state;
  wp_manifest *m = parse_ok("{\"limits\": {\"memory\": 65536, \"timeout_ms\": 4294967295,"
                            " \"fuel\": 9007199254740991}}");

  assert_int_equal(m->max_memory, 65536);
  assert_int_equal(m->timeout_ms, UINT32_MAX);
  assert_int_equal(m->fuel, 9007199254740991ULL);
  wp_manifest_free(m);

  m = parse_ok("{\"limits\": {\"memory\": \"1 GiB\", \"timeout_ms\": 1e3, \"fuel\": 0}}");
  assert_int_equal(m->max_memory, 1ULL << 30);
  assert_int_equal(m->timeout_ms, 1000);
  wp_manifest_free(m);

  /* A size string may go past 2^53, where plain JSON numbers stop. */
  m = parse_ok("{\"limits\": {\"memory\": \"18446744073709551615\"}}");
  assert_true(m->max_memory == UINT64_MAX);
  wp_manifest_free(m);
}

static void test_parse_respects_length(void **state) {
  (void)state;
  const char text[] = "{\"name\": \"a\"}trailing garbage not counted";
  wp_manifest *m = NULL;

  assert_null(wp_manifest_parse(text, 13, NULL, &m));
  assert_string_equal(m->name, "a");
  wp_manifest_free(m);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static void test_invalid_json(void **state) {
  (void)state;
  wp_manifest *m = NULL;

  PARSE_FAILS("{\"name\": \"a\",}", "manifest: invalid JSON at line 1, column 14, near '}'");
  PARSE_FAILS("{\n  \"name\": \"a\"\n  \"x\": 1\n}", "invalid JSON at line 3, column 3",
              "near '\"x\": 1'");
  PARSE_FAILS("{\"name\": ", "invalid JSON at the end of the text (line 1, column 10)");
  PARSE_FAILS("{\"name\": tru}", "invalid JSON at line 1, column 10, near 'tru}'");
  PARSE_FAILS("", "manifest: invalid JSON: the text is empty");
  PARSE_FAILS(" \n ", "the text is empty");
  PARSE_FAILS("{} x", "invalid JSON at line 1, column 4, near 'x'", "unexpected text");
  PARSE_FAILS("{}{}", "unexpected text");
  PARSE_FAILS("[1]", "manifest: the manifest must be a JSON object, got array");
  PARSE_FAILS("\"name\"", "must be a JSON object, got string");
  /* "\u0000" would cut the C string short: "a\0b" read as "a". */
  PARSE_FAILS("{\"name\": \"a\\u0000b\"}", "must not contain \\u0000", "line 1, column 12");

  /* A raw NUL byte inside the given length. */
  CHECK_ERROR(wp_manifest_parse("{\"name\": \"a\0b\"}", 15, NULL, &m), WP_ERR_BAD_INPUT,
              "NUL byte at line 1, column 12");
  assert_null(m);
  CHECK_ERROR(wp_manifest_parse(NULL, 0, NULL, &m), WP_ERR_BAD_INPUT, "manifest: ");
  CHECK_ERROR(wp_manifest_parse("{}", 2, NULL, NULL), WP_ERR_BAD_INPUT, "out pointer");

  /* An escaped backslash before "u0000" is no NUL escape. */
  m = parse_ok("{\"name\": \"a\\\\u0000b\"}");
  assert_string_equal(m->name, "a\\u0000b");
  wp_manifest_free(m);
}

static void test_unknown_fields(void **state) {
  (void)state;
  PARSE_FAILS(
      "{\"nmae\": \"x\"}",
      "manifest: unknown field 'nmae' (known: name, sources, limits, wasi, config, imports, capabilities, link, isolation)");
  PARSE_FAILS("{\"Name\": \"x\"}", "unknown field 'Name'"); /* keys are case-sensitive */
  PARSE_FAILS("{\"wasi\": {\"dirz\": []}}",
              "manifest: unknown field 'wasi.dirz' (known: dirs, env, args, stdin, stdout, "
              "stderr)");
  PARSE_FAILS("{\"limits\": {\"timout_ms\": 5}}",
              "unknown field 'limits.timout_ms' (known: memory, timeout_ms, fuel, module_size, "
              "functions)");
  PARSE_FAILS("{\"sources\": [{\"path\": \"a\", \"sha\": \"x\"}]}",
              "unknown field 'sources[0].sha' (known: path, sha256)");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"host\": \"/a\"}, {\"host\": \"/b\", \"ro\": true}]}}",
              "unknown field 'wasi.dirs[1].ro' (known: host, guest, mode)");
  /* Control bytes in a key do not reach the message. */
  PARSE_FAILS("{\"a\\nb\": 1}", "unknown field 'a?b'");
}

static void test_duplicate_fields(void **state) {
  (void)state;
  PARSE_FAILS("{\"name\": \"a\", \"name\": \"b\"}", "duplicate field 'name'");
  PARSE_FAILS("{\"limits\": {\"fuel\": 1, \"fuel\": 2}}", "duplicate field 'limits.fuel'");
  PARSE_FAILS("{\"wasi\": {\"env\": {\"A\": \"1\", \"A\": \"2\"}}}",
              "duplicate field 'wasi.env.A'");
  PARSE_FAILS("{\"config\": {\"k\": \"1\", \"k\": \"2\"}}", "duplicate field 'config.k'");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"host\": \"/a\"},"
              " {\"host\": \"/b\", \"guest\": \"/a\"}]}}",
              "'wasi.dirs[1]' grants guest path \"/a\" again", "already granted by 'wasi.dirs[0]'");
}

static void test_wrong_types(void **state) {
  (void)state;
  PARSE_FAILS("{\"limits\": {\"timeout_ms\": \"50\"}}",
              "manifest: 'limits.timeout_ms' must be a non-negative integer, got string");
  PARSE_FAILS("{\"name\": 5}", "'name' must be a string, got number");
  PARSE_FAILS("{\"name\": null}", "'name' must be a string, got null");
  PARSE_FAILS("{\"name\": \"\"}", "'name' must not be empty");
  PARSE_FAILS("{\"sources\": {}}", "'sources' must be an array", "got object");
  PARSE_FAILS("{\"sources\": [\"a.wasm\"]}", "'sources[0]' must be an object", "got string");
  PARSE_FAILS("{\"sources\": [{\"path\": 1}]}", "'sources[0].path' must be a string, got number");
  PARSE_FAILS("{\"limits\": []}", "'limits' must be an object, got array");
  PARSE_FAILS("{\"limits\": {\"fuel\": true}}",
              "'limits.fuel' must be a non-negative integer, got boolean");
  PARSE_FAILS("{\"limits\": {\"memory\": false}}",
              "'limits.memory' must be a number of bytes or a size string", "got boolean");
  PARSE_FAILS("{\"wasi\": 1}", "'wasi' must be an object, got number");
  PARSE_FAILS("{\"wasi\": {\"dirs\": {}}}", "'wasi.dirs' must be an array", "got object");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [\"/a\"]}}", "'wasi.dirs[0]' must be an object", "got string");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"host\": \"/a\", \"mode\": 1}]}}",
              "'wasi.dirs[0].mode' must be a string, got number");
  PARSE_FAILS("{\"wasi\": {\"env\": []}}", "'wasi.env' must be an object of strings, got array");
  PARSE_FAILS("{\"wasi\": {\"env\": {\"LANG\": 1}}}",
              "'wasi.env.LANG' must be a string, got number");
  PARSE_FAILS("{\"wasi\": {\"args\": \"a b\"}}", "'wasi.args' must be an array of strings");
  PARSE_FAILS("{\"wasi\": {\"args\": [\"a\", true]}}",
              "'wasi.args[1]' must be a string, got boolean");
  PARSE_FAILS("{\"wasi\": {\"stdin\": [1]}}", "'wasi.stdin' must be a string, got array");
  PARSE_FAILS("{\"wasi\": {\"stdout\": 1}}",
              "'wasi.stdout' must be \"inherit\", \"capture\" or \"discard\", got number");
  PARSE_FAILS("{\"wasi\": {\"stderr\": \"pipe\"}}",
              "'wasi.stderr' must be \"inherit\", \"capture\" or \"discard\", got \"pipe\"");
  PARSE_FAILS("{\"config\": {\"greeting\": null}}", "'config.greeting' must be a string, got null");
  PARSE_FAILS("{\"config\": \"x\"}", "'config' must be an object of strings, got string");
}

static void test_bad_numbers(void **state) {
  (void)state;
  PARSE_FAILS("{\"limits\": {\"timeout_ms\": -1}}",
              "'limits.timeout_ms' must be a non-negative integer, got -1");
  PARSE_FAILS("{\"limits\": {\"fuel\": 1.5}}",
              "'limits.fuel' must be a non-negative integer, got 1.5");
  PARSE_FAILS("{\"limits\": {\"memory\": -0.5}}", "'limits.memory' must be a non-negative integer");
  PARSE_FAILS("{\"limits\": {\"timeout_ms\": 4294967296}}",
              "'limits.timeout_ms' is too large (at most 4294967295), got 4294967296");
  /* 2^53 + 1 would be read as 2^53: refused, not rounded. */
  PARSE_FAILS("{\"limits\": {\"fuel\": 9007199254740993}}",
              "'limits.fuel' is too large (at most 9007199254740991)");
  PARSE_FAILS("{\"limits\": {\"memory\": 1e300}}", "'limits.memory' is too large", "got 1e+300");
}

static void test_bad_sources(void **state) {
  (void)state;
  PARSE_FAILS("{\"sources\": [{\"path\": \"a.wasm\"}, {\"path\": \"b.wasm\"}]}",
              "'sources' has 2 entries, but only one source is supported for now");
  PARSE_FAILS("{\"sources\": []}", "'sources' is empty");
  PARSE_FAILS("{\"sources\": [{\"sha256\": \"" SHA_HEX "\"}]}", "'sources[0].path' is missing");
  PARSE_FAILS("{\"sources\": [{\"path\": \"\"}]}", "'sources[0].path' must not be empty");
  PARSE_FAILS("{\"sources\": [{\"path\": \"a\", \"sha256\": \"abc\"}]}",
              "'sources[0].sha256' must be 64 hex digits", "got \"abc\"");
  PARSE_FAILS("{\"sources\": [{\"path\": \"a\", \"sha256\": \"" SHA_HEX "0\"}]}",
              "must be 64 hex digits");
  PARSE_FAILS("{\"sources\": [{\"path\": \"a\", \"sha256\": "
              "\"zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}]}",
              "must be 64 hex digits");
}

static void test_bad_dirs(void **state) {
  (void)state;
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"host\": \"/a\", \"mode\": \"rx\"}]}}",
              "'wasi.dirs[0].mode' must be \"ro\" or \"rw\", got \"rx\"");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"host\": \"/a\", \"guest\": \"data\"}]}}",
              "'wasi.dirs[0].guest' must be an absolute path (start with '/'), got \"data\"");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"host\": \"./data\"}]}}",
              "'wasi.dirs[0].guest' is needed because 'host' (\"./data\") is relative");
  PARSE_FAILS("{\"wasi\": {\"dirs\": [{\"guest\": \"/a\"}]}}", "'wasi.dirs[0].host' is missing");
  PARSE_FAILS("{\"wasi\": {\"env\": {\"A=B\": \"1\"}}}", "invalid variable name \"A=B\"");
  PARSE_FAILS("{\"wasi\": {\"env\": {\"\": \"1\"}}}", "invalid variable name \"\"");
}

static void test_bad_size_in_json(void **state) {
  (void)state;
  PARSE_FAILS("{\"limits\": {\"memory\": \"16 Mo\"}}", "'limits.memory' must be a whole number",
              "KiB, MiB, GiB", "K/KB, M/MB, G/GB", "got \"16 Mo\"");
  PARSE_FAILS("{\"limits\": {\"memory\": \"1.5GiB\"}}", "got \"1.5GiB\"");
  PARSE_FAILS("{\"limits\": {\"memory\": \"\"}}", "'limits.memory' must be a whole number");
}

/* Bad values are escaped and cut short: no newlines or floods in messages. */
static void test_message_sanitizing(void **state) {
  (void)state;
  const char *nl = "{\"wasi\": {\"stdout\": \"a\\nb\\\"c\"}}";
  char json[512], *p;
  wp_manifest *m = NULL;
  wp_error *err;

  err = wp_manifest_parse(nl, strlen(nl), NULL, &m);
  assert_non_null(err);
  assert_null(strchr(wp_error_get_message(err), '\n'));
  CHECK_ERROR(err, WP_ERR_BAD_INPUT, "got \"a\\x0ab\\\"c\"");

  p = json + snprintf(json, sizeof json, "{\"wasi\": {\"stdout\": \"");
  memset(p, 'x', 300);
  strcpy(p + 300, "\"}}");
  err = wp_manifest_parse(json, strlen(json), NULL, &m);
  assert_non_null(err);
  assert_true(strlen(wp_error_get_message(err)) < 200);
  CHECK_ERROR(err, WP_ERR_BAD_INPUT, "xxx\"...");
}

/* ------------------------------------------------------------------------ */
/* Files and relative paths                                                 */
/* ------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static void test_parse_base_dir(void **state) {
  (void)state;
  const char *json = "{\"sources\": [{\"path\": \"p/a.wasm\"}],"
                     " \"wasi\": {\"dirs\": [{\"host\": \"data\", \"guest\": \"/data\"},"
                     " {\"host\": \"/abs\"}]}}";
  wp_manifest *m = parse_in(json, "/base");

  assert_string_equal(m->source_path, "/base/p/a.wasm");
  assert_string_equal(m->dirs[0].host, "/base/data");
  assert_string_equal(m->dirs[1].host, "/abs"); /* absolute paths stay */
  wp_manifest_free(m);

  m = parse_in(json, "/");
  assert_string_equal(m->source_path, "/p/a.wasm");
  wp_manifest_free(m);

  m = parse_in(json, "rel/dir/");
  assert_string_equal(m->source_path, "rel/dir/p/a.wasm");
  wp_manifest_free(m);

  m = parse_in("{\"sources\": [{\"path\": \"/x/a.wasm\"}]}", "/base");
  assert_string_equal(m->source_path, "/x/a.wasm");
  wp_manifest_free(m);
}

static void test_load(void **state) {
  (void)state;
  char dir[] = "/tmp/wp_manifest_test_XXXXXX", sub[64], file[96], bad[96], want[256];
  wp_manifest *m = NULL;

  assert_non_null(mkdtemp(dir));
  snprintf(sub, sizeof sub, "%s/sub", dir);
  assert_int_equal(mkdir(sub, 0700), 0);
  snprintf(file, sizeof file, "%s/plugin.json", sub);
  write_file(file, "{\"name\": \"auth\", \"sources\": [{\"path\": \"auth.wasm\"}],\n"
                   " \"wasi\": {\"dirs\": [{\"host\": \"data\", \"guest\": \"/data\"},\n"
                   "                    {\"host\": \"/srv\", \"mode\": \"rw\"}]}}\n");

  assert_null(wp_manifest_load(file, &m));
  snprintf(want, sizeof want, "%s/auth.wasm", sub);
  assert_string_equal(m->source_path, want);
  snprintf(want, sizeof want, "%s/data", sub);
  assert_string_equal(m->dirs[0].host, want);
  assert_string_equal(m->dirs[0].guest, "/data");
  assert_string_equal(m->dirs[1].host, "/srv");
  wp_manifest_free(m);
  m = NULL;

  /* Errors in a file name the file. */
  snprintf(bad, sizeof bad, "%s/bad.json", sub);
  write_file(bad, "{\"wasi\": {\"dirz\": []}}");
  snprintf(want, sizeof want, "manifest '%s': unknown field 'wasi.dirz'", bad);
  CHECK_ERROR(wp_manifest_load(bad, &m), WP_ERR_BAD_INPUT, want);
  write_file(bad, "{\n\n  \"name\" \"x\"}");
  snprintf(want, sizeof want, "manifest '%s': invalid JSON at line 3, column 10", bad);
  CHECK_ERROR(wp_manifest_load(bad, &m), WP_ERR_BAD_INPUT, want);
  assert_null(m);

  /* A missing file is NOT_FOUND; a directory cannot be read (IO). */
  snprintf(want, sizeof want, "%s/missing.json", sub);
  CHECK_ERROR(wp_manifest_load(want, &m), WP_ERR_NOT_FOUND, "missing.json",
              "No such file or directory");
  CHECK_ERROR(wp_manifest_load(sub, &m), WP_ERR_IO, sub, "Is a directory");
  CHECK_ERROR(wp_manifest_load(NULL, &m), WP_ERR_BAD_INPUT, "path");
  assert_null(m);

  unlink(bad);
  unlink(file);
  rmdir(sub);
  rmdir(dir);
}

/* A file named without a directory resolves against ".". */
static void test_load_from_cwd(void **state) {
  (void)state;
  char dir[] = "/tmp/wp_manifest_test_XXXXXX", cwd[4096];
  wp_manifest *m = NULL;
  wp_error *err;

  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chdir(dir), 0);
  write_file("m.json", "{\"sources\": [{\"path\": \"a.wasm\"}]}");
  err = wp_manifest_load("m.json", &m);
  unlink("m.json");
  assert_int_equal(chdir(cwd), 0);
  rmdir(dir);
  assert_null(err);
  assert_string_equal(m->source_path, "./a.wasm");
  wp_manifest_free(m);
}

/* ------------------------------------------------------------------------ */
/* Sizes and hashes                                                         */
/* ------------------------------------------------------------------------ */

static void test_parse_size(void **state) {
  (void)state;
  static const struct {
    const char *text;
    uint64_t bytes;
  } good[] = {
      {"0", 0},
      {"65536", 65536},
      {"007", 7},
      {"1B", 1},
      {"1b", 1},
      {"1K", 1000},
      {"1kb", 1000},
      {"1KiB", 1024},
      {"1kib", 1024},
      {"512KIB", 512 * 1024},
      {"16MiB", 16ULL << 20},
      {"16 MiB", 16ULL << 20},
      {"3M", 3000000},
      {"3mB", 3000000},
      {"2G", 2000000000},
      {"2GB", 2000000000},
      {"1GiB", 1ULL << 30},
      {"4 gib", 4ULL << 30},
      {"18446744073709551615", UINT64_MAX},
      {"17179869183GiB", 17179869183ULL << 30},
  };
  static const char *const bad[] = {
      "",
      " ",
      "-1",
      "+1",
      "1.5MiB",
      "MiB",
      "16MiB ",
      " 16",
      "16  MiB",
      "16 ",
      "16\tMiB",
      "1TiB",
      "1KiBx",
      "1 K iB",
      "0x10",
      "1e3",
      "1,000",
      "1iB",
      "18446744073709551616",
      "17179869184GiB",
      "99999999999999999999999",
  };
  uint64_t out;
  size_t i;

  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    out = 12345;
    if (!wp_parse_size(good[i].text, &out)) fail_msg("\"%s\" was refused", good[i].text);
    if (out != good[i].bytes) fail_msg("\"%s\" gave %llu", good[i].text, (unsigned long long)out);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    out = 12345;
    if (wp_parse_size(bad[i], &out)) fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(out, 12345); /* untouched on failure */
  }
  assert_false(wp_parse_size(NULL, &out));
  assert_false(wp_parse_size("1", NULL));
}

static void test_sha256_from_hex(void **state) {
  (void)state;
  uint8_t out[32], keep[32];
  char upper[65];
  size_t i;

  assert_true(wp_sha256_from_hex(SHA_HEX, out));
  assert_int_equal(out[0], 0x9f);
  assert_int_equal(out[15], 0x15);
  assert_int_equal(out[31], 0x08);

  for (i = 0; i < 64; i++) upper[i] = (char)(SHA_HEX[i] >= 'a' ? SHA_HEX[i] - 32 : SHA_HEX[i]);
  upper[64] = '\0';
  memset(out, 0, sizeof out);
  assert_true(wp_sha256_from_hex(upper, out));
  assert_int_equal(out[0], 0x9f);

  memset(keep, 0xAB, sizeof keep);
  memcpy(out, keep, sizeof out);
  assert_false(wp_sha256_from_hex("", out));
  assert_false(wp_sha256_from_hex(NULL, out));
  assert_false(wp_sha256_from_hex("9f86", out));
  assert_false(wp_sha256_from_hex(SHA_HEX "0", out));          /* 65 digits */
  assert_false(wp_sha256_from_hex(SHA_HEX + 1, out));          /* 63 digits */
  assert_false(wp_sha256_from_hex(" " SHA_HEX, out));
  upper[63] = 'g';
  assert_false(wp_sha256_from_hex(upper, out));
  assert_memory_equal(out, keep, sizeof out); /* untouched on failure */
}

/* ------------------------------------------------------------------------ */
/* Setters, config_get, copies                                              */
/* ------------------------------------------------------------------------ */

static void test_setters(void **state) {
  (void)state;
  wp_manifest *m = wp_manifest_new();

  assert_null(wp_manifest_set_name(m, "a"));
  assert_null(wp_manifest_set_name(m, "b"));
  assert_string_equal(m->name, "b");
  assert_null(wp_manifest_set_name(m, NULL)); /* back to the default */
  assert_null(m->name);

  assert_null(wp_manifest_set_env(m, "LANG", "C"));
  assert_null(wp_manifest_set_env(m, "LANG", "en_US.UTF-8"));
  assert_int_equal(m->nenv, 1);
  assert_string_equal(m->env[0].value, "en_US.UTF-8");
  assert_null(wp_manifest_set_config(m, "k", "1"));
  assert_null(wp_manifest_set_config(m, "k", "2"));
  assert_int_equal(m->nconfig, 1);
  assert_string_equal(wp_manifest_config_get(m, "k", 1), "2");

  assert_null(wp_manifest_set_source(m, "a.wasm", SHA_HEX));
  assert_null(wp_manifest_set_source(m, "b.wasm", NULL)); /* keeps the pin */
  assert_string_equal(m->source_path, "b.wasm");
  assert_true(m->has_sha256);
  assert_int_equal(m->sha256[0], 0x9f);

  assert_null(wp_manifest_allow_dir(m, "/srv/a", "/data", false));
  assert_null(wp_manifest_allow_dir(m, "/srv/b", "/data", true)); /* replaces */
  assert_null(wp_manifest_allow_dir(m, "rel", "/rel", false));    /* kept as given */
  assert_int_equal(m->ndirs, 2);
  assert_string_equal(m->dirs[0].host, "/srv/b");
  assert_true(m->dirs[0].writable);
  assert_string_equal(m->dirs[1].host, "rel");

  assert_null(wp_manifest_add_arg(m, "prog"));
  assert_null(wp_manifest_add_arg(m, ""));
  assert_int_equal(m->nargs, 2);

  assert_null(wp_manifest_set_stdin(m, "abc", 3));
  assert_null(wp_manifest_set_stdin(m, NULL, 0));
  assert_true(m->has_stdin);
  assert_int_equal(m->stdin_len, 0);

  wp_manifest_set_max_memory(m, 1 << 20);
  wp_manifest_set_timeout_ms(m, 10);
  wp_manifest_set_fuel(m, 99);
  wp_manifest_set_stdout(m, WP_STDIO_INHERIT, NULL, NULL);
  wp_manifest_set_stderr(m, WP_STDIO_CAPTURE, NULL, NULL);
  assert_int_equal(m->max_memory, 1 << 20);
  assert_int_equal(m->timeout_ms, 10);
  assert_int_equal(m->fuel, 99);
  assert_int_equal(m->out.mode, WP_STDIO_INHERIT);
  assert_int_equal(m->err.mode, WP_STDIO_CAPTURE);
  wp_manifest_free(m);
  wp_manifest_free(NULL);
}

static void test_setter_errors(void **state) {
  (void)state;
  wp_manifest *m = wp_manifest_new();

  CHECK_ERROR(wp_manifest_set_env(m, NULL, "v"), WP_ERR_BAD_INPUT, "manifest: ");
  CHECK_ERROR(wp_manifest_set_env(m, "K", NULL), WP_ERR_BAD_INPUT, "manifest: ");
  CHECK_ERROR(wp_manifest_set_env(m, "A=B", "v"), WP_ERR_BAD_INPUT, "\"A=B\"", "'='");
  CHECK_ERROR(wp_manifest_set_env(NULL, "K", "v"), WP_ERR_BAD_INPUT, "manifest: ");
  CHECK_ERROR(wp_manifest_set_config(m, NULL, "v"), WP_ERR_BAD_INPUT, "manifest: ");
  CHECK_ERROR(wp_manifest_set_source(m, NULL, NULL), WP_ERR_BAD_INPUT, "path");
  CHECK_ERROR(wp_manifest_set_source(m, "", NULL), WP_ERR_BAD_INPUT, "must not be empty");
  CHECK_ERROR(wp_manifest_set_source(m, "a.wasm", "abc"), WP_ERR_BAD_INPUT, "64 hex digits",
              "\"abc\"");
  CHECK_ERROR(wp_manifest_set_sha256(m, "xyz"), WP_ERR_BAD_INPUT, "64 hex digits");
  CHECK_ERROR(wp_manifest_set_sha256(m, NULL), WP_ERR_BAD_INPUT, "64 hex digits");
  CHECK_ERROR(wp_manifest_allow_dir(m, NULL, "/d", false), WP_ERR_BAD_INPUT, "host path");
  CHECK_ERROR(wp_manifest_allow_dir(m, "/d", NULL, false), WP_ERR_BAD_INPUT, "guest path");
  CHECK_ERROR(wp_manifest_allow_dir(m, "/d", "data", false), WP_ERR_BAD_INPUT,
              "guest path \"data\" must be absolute");
  CHECK_ERROR(wp_manifest_add_arg(m, NULL), WP_ERR_BAD_INPUT, "argument");
  CHECK_ERROR(wp_manifest_set_stdin(m, NULL, 3), WP_ERR_BAD_INPUT, "data");
  CHECK_ERROR(wp_manifest_set_name(m, ""), WP_ERR_BAD_INPUT, "must not be empty");
  CHECK_ERROR(wp_manifest_set_name(NULL, "x"), WP_ERR_BAD_INPUT, "NULL");

  /* Failed calls change nothing. */
  check_defaults(m);
  assert_int_equal(m->ndirs, 0);
  wp_manifest_free(m);

  /* The void setters ignore a NULL manifest rather than crash. */
  wp_manifest_set_max_memory(NULL, 1);
  wp_manifest_set_timeout_ms(NULL, 1);
  wp_manifest_set_fuel(NULL, 1);
  wp_manifest_set_stdout(NULL, WP_STDIO_INHERIT, NULL, NULL);
  wp_manifest_set_stderr(NULL, WP_STDIO_INHERIT, NULL, NULL);
}

static void test_config_get(void **state) {
  (void)state;
  wp_manifest *m = parse_ok("{\"config\": {\"greeting\": \"Hello\", \"g\": \"x\", \"\": \"e\"}}");

  /* key_len bounds the key: it need not be NUL-terminated. */
  assert_string_equal(wp_manifest_config_get(m, "greeting!!", 8), "Hello");
  assert_string_equal(wp_manifest_config_get(m, "greeting", 1), "x");
  assert_string_equal(wp_manifest_config_get(m, "", 0), "e");
  assert_null(wp_manifest_config_get(m, "gr", 2));
  assert_null(wp_manifest_config_get(m, "greetings", 9));
  assert_null(wp_manifest_config_get(m, "missing", 7));
  assert_null(wp_manifest_config_get(m, "g\0x", 3)); /* a NUL inside the key matches nothing */
  assert_null(wp_manifest_config_get(m, NULL, 0));
  assert_null(wp_manifest_config_get(NULL, "g", 1));
  wp_manifest_free(m);
}

static int output_fn(void *user_data, wp_instance *inst, const uint8_t *data, size_t len) {
  (void)user_data, (void)inst, (void)data, (void)len;
  return 0;
}

static void test_copy(void **state) {
  (void)state;
  static const uint8_t bin[] = {'a', 0, 'b', 0xff};
  wp_manifest *m = wp_manifest_new(), *c;
  int token;

  assert_null(wp_manifest_set_name(m, "orig"));
  assert_null(wp_manifest_set_source(m, "/p/a.wasm", SHA_HEX));
  assert_null(wp_manifest_allow_dir(m, "/srv", "/data", true));
  assert_null(wp_manifest_set_env(m, "LANG", "C"));
  assert_null(wp_manifest_add_arg(m, "prog"));
  assert_null(wp_manifest_set_stdin(m, bin, sizeof bin));
  assert_null(wp_manifest_set_config(m, "k", "v"));
  wp_manifest_set_max_memory(m, 1 << 20);
  wp_manifest_set_timeout_ms(m, 7);
  wp_manifest_set_fuel(m, 42);
  wp_manifest_set_stdout(m, WP_STDIO_CALLBACK, output_fn, &token);

  c = wp_manifest_copy(m);
  assert_non_null(c);

  /* Changing, then freeing, the original leaves the copy alone. */
  assert_null(wp_manifest_set_name(m, "changed"));
  assert_null(wp_manifest_set_env(m, "LANG", "fr"));
  assert_null(wp_manifest_set_config(m, "k", "changed"));
  assert_null(wp_manifest_add_arg(m, "more"));
  wp_manifest_set_fuel(m, 1);
  wp_manifest_free(m);

  assert_string_equal(c->name, "orig");
  assert_string_equal(c->source_path, "/p/a.wasm");
  assert_true(c->has_sha256);
  assert_int_equal(c->sha256[0], 0x9f);
  assert_int_equal(c->ndirs, 1);
  assert_string_equal(c->dirs[0].host, "/srv");
  assert_string_equal(c->dirs[0].guest, "/data");
  assert_true(c->dirs[0].writable);
  assert_int_equal(c->nenv, 1);
  assert_string_equal(c->env[0].value, "C");
  assert_int_equal(c->nargs, 1);
  assert_string_equal(c->args[0], "prog");
  assert_true(c->has_stdin);
  assert_int_equal(c->stdin_len, sizeof bin);
  assert_memory_equal(c->stdin_data, bin, sizeof bin);
  assert_string_equal(wp_manifest_config_get(c, "k", 1), "v");
  assert_int_equal(c->max_memory, 1 << 20);
  assert_int_equal(c->timeout_ms, 7);
  assert_int_equal(c->fuel, 42);
  assert_int_equal(c->out.mode, WP_STDIO_CALLBACK);
  assert_ptr_equal(c->out.fn, output_fn);
  assert_ptr_equal(c->out.user_data, &token);
  wp_manifest_free(c);

  c = wp_manifest_copy(NULL);
  assert_non_null(c);
  check_defaults(c);
  wp_manifest_free(c);
}

/* ------------------------------------------------------------------------ */
/* Limits: load caps, and no limit that reads as "none"                     */
/* ------------------------------------------------------------------------ */

static void test_load_caps(void **state) {
  (void)state;
  wp_manifest *m = parse_ok("{\"limits\": {\"module_size\": \"64MiB\", \"functions\": 100000}}");
  wp_manifest *c;

  assert_int_equal(m->max_module_size, 64u << 20);
  assert_int_equal(m->max_functions, 100000);
  c = wp_manifest_copy(m);
  assert_int_equal(c->max_module_size, 64u << 20);
  assert_int_equal(c->max_functions, 100000);
  wp_manifest_free(c);
  wp_manifest_free(m);

  m = parse_ok("{\"limits\": {\"module_size\": 1, \"functions\": 4294967295}}");
  assert_int_equal(m->max_module_size, 1);
  assert_int_equal(m->max_functions, UINT32_MAX);
  wp_manifest_set_max_module_size(m, 5);
  wp_manifest_set_max_functions(m, 7);
  assert_int_equal(m->max_module_size, 5);
  assert_int_equal(m->max_functions, 7);
  wp_manifest_set_max_module_size(m, 0); /* back to the engine's */
  wp_manifest_set_max_functions(m, 0);
  check_defaults(m);
  wp_manifest_free(m);
  wp_manifest_set_max_module_size(NULL, 1);
  wp_manifest_set_max_functions(NULL, 1);

  PARSE_FAILS("{\"limits\": {\"module_size\": 0}}",
              "'limits.module_size' must be at least 1 byte, got 0 bytes",
              "omit it to use the engine's limit");
  PARSE_FAILS("{\"limits\": {\"module_size\": \"0 MiB\"}}",
              "'limits.module_size' must be at least");
  PARSE_FAILS("{\"limits\": {\"module_size\": \"12XB\"}}",
              "'limits.module_size' must be a whole number of bytes", "got \"12XB\"");
  PARSE_FAILS("{\"limits\": {\"module_size\": []}}",
              "'limits.module_size' must be a number of bytes or a size string", "got array");
  PARSE_FAILS("{\"limits\": {\"functions\": 0}}",
              "'limits.functions' must be at least 1, got 0; omit it to use the engine's limit");
  PARSE_FAILS("{\"limits\": {\"functions\": 4294967296}}",
              "'limits.functions' is too large (at most 4294967295)");
  PARSE_FAILS("{\"limits\": {\"functions\": \"10\"}}",
              "'limits.functions' must be a non-negative integer, got string");
  PARSE_FAILS("{\"limits\": {\"functions\": 2.5}}", "'limits.functions' must be a non-negative");
}

/* Below one 64 KiB page a memory limit allows no memory: refused, with the
   way to get the engine's limit instead. */
static void test_memory_below_a_page(void **state) {
  (void)state;
  wp_manifest *m;

  PARSE_FAILS("{\"limits\": {\"memory\": 0}}",
              "'limits.memory' must be at least 64 KiB (one page), got 0 bytes",
              "omit it to use the engine's limit");
  PARSE_FAILS("{\"limits\": {\"memory\": \"0\"}}", "'limits.memory' must be at least 64 KiB");
  PARSE_FAILS("{\"limits\": {\"memory\": 65535}}", "got 65535 bytes");
  PARSE_FAILS("{\"limits\": {\"memory\": \"1KiB\"}}", "got 1024 bytes");
  m = parse_ok("{\"limits\": {\"memory\": \"64KiB\"}}");
  assert_int_equal(m->max_memory, 65536);
  wp_manifest_free(m);
}

/* ------------------------------------------------------------------------ */
/* Text that reaches the plugin must be UTF-8                               */
/* ------------------------------------------------------------------------ */

/* A JSON manifest with `value` (raw bytes, not escaped) put where %s is. */
static void parse_bad_text_at(int line, const char *format, const char *value, const char *want1,
                              const char *want2) {
  char json[512];
  wp_manifest *m = NULL;
  wp_error *err;
  const char *msg;

  snprintf(json, sizeof json, format, value);
  err = wp_manifest_parse(json, strlen(json), NULL, &m);
  if (!err) fail_msg("line %d: %s was accepted", line, json);
  msg = wp_error_get_message(err);
  /* The message escapes the bad bytes: it is UTF-8 itself, on one line. */
  if (!wp_utf8_valid((const uint8_t *)msg, strlen(msg)) || strchr(msg, '\n'))
    fail_msg("line %d: message is not one line of UTF-8: %s", line, msg);
  assert_null(m);
  check_error_at(line, err, WP_ERR_BAD_INPUT, want1, want2, "not valid UTF-8", NULL);
}

#define BAD_TEXT(format, value, want1, want2) \
  parse_bad_text_at(__LINE__, format, value, want1, want2)

static void test_text_in_json(void **state) {
  (void)state;
  wp_manifest *m;

  BAD_TEXT("{\"name\": \"%s\"}", "a\xff", "'name'", "\"a\\xff\"");
  BAD_TEXT("{\"wasi\": {\"env\": {\"%s\": \"1\"}}}", "X\xff", "'wasi.env' key", "\"X\\xff\"");
  BAD_TEXT("{\"wasi\": {\"env\": {\"LANG\": \"%s\"}}}", "C\xc0\xaf", "'wasi.env.LANG'",
           "\"C\\xc0\\xaf\""); /* an overlong '/' */
  BAD_TEXT("{\"wasi\": {\"args\": [\"prog\", \"%s\"]}}", "\xed\xa0\x80", "'wasi.args[1]'",
           "\\xed\\xa0\\x80"); /* a UTF-16 surrogate */
  BAD_TEXT("{\"wasi\": {\"dirs\": [{\"host\": \"/d\", \"guest\": \"/g%s\"}]}}", "\xfe",
           "'wasi.dirs[0].guest'", "\"/g\\xfe\"");
  /* Without a guest path the host path is what the plugin sees. */
  BAD_TEXT("{\"wasi\": {\"dirs\": [{\"host\": \"/d%s\"}]}}", "\x80", "'wasi.dirs[0].host'",
           "\"/d\\x80\"");
  BAD_TEXT("{\"config\": {\"%s\": \"v\"}}", "k\xf8", "'config' key", "\"k\\xf8\"");
  BAD_TEXT("{\"config\": {\"k\": \"%s\"}}", "truncated \xe6\x97", "'config.k'",
           "\"truncated \\xe6\\x97\"");
  /* A lone surrogate escape cannot be made into UTF-8: cJSON refuses it. */
  PARSE_FAILS("{\"config\": {\"k\": \"\\ud800\"}}", "invalid JSON");
  PARSE_FAILS("{\"wasi\": {\"env\": {\"A\": \"a\\u0000b\"}}}", "must not contain \\u0000");

  /* UTF-8 is fine, raw or escaped; a host path is the host's business. */
  m = parse_ok(
      "{\"name\": \"caf\xc3\xa9\", \"wasi\": {\"env\": {\"\xe6\x97\xa5\": \"\\ud83d\\ude00\"},"
      " \"args\": [\"\xc3\xa9\"], \"dirs\": [{\"host\": \"/h\xff\", \"guest\": \"/g\xc3\xa9\"}]},"
      " \"config\": {\"k\xc3\xa9\": \"v\xc3\xa9\"}}");
  assert_string_equal(m->name, "caf\xc3\xa9");
  assert_string_equal(m->env[0].key, "\xe6\x97\xa5");
  assert_string_equal(m->env[0].value, "\xf0\x9f\x98\x80");
  assert_string_equal(m->dirs[0].host, "/h\xff");
  assert_string_equal(wp_manifest_config_get(m, "k\xc3\xa9", 3), "v\xc3\xa9");
  wp_manifest_free(m);
}

static void test_text_in_setters(void **state) {
  (void)state;
  wp_manifest *m = wp_manifest_new();

  CHECK_ERROR(wp_manifest_set_name(m, "n\xff"), WP_ERR_BAD_INPUT,
              "the plugin name \"n\\xff\" is not valid UTF-8");
  CHECK_ERROR(wp_manifest_set_env(m, "K\xff", "v"), WP_ERR_BAD_INPUT,
              "environment variable name \"K\\xff\" is not valid UTF-8");
  CHECK_ERROR(wp_manifest_set_env(m, "K", "v\xff"), WP_ERR_BAD_INPUT,
              "the value of environment variable \"K\" is not valid UTF-8 (\"v\\xff\")");
  CHECK_ERROR(wp_manifest_set_env(m, "", "v"), WP_ERR_BAD_INPUT, "must be non-empty");
  assert_null(wp_manifest_add_arg(m, "prog"));
  CHECK_ERROR(wp_manifest_add_arg(m, "\xc1\x81"), WP_ERR_BAD_INPUT,
              "argument argv[1] \"\\xc1\\x81\" is not valid UTF-8");
  CHECK_ERROR(wp_manifest_allow_dir(m, "/srv", "/d\xff", false), WP_ERR_BAD_INPUT,
              "guest path \"/d\\xff\" is not valid UTF-8");
  CHECK_ERROR(wp_manifest_set_config(m, "\xff", "v"), WP_ERR_BAD_INPUT,
              "config key \"\\xff\" is not valid UTF-8");
  CHECK_ERROR(wp_manifest_set_config(m, "k", "\xf5\x80\x80\x80"), WP_ERR_BAD_INPUT,
              "the value of config key \"k\" is not valid UTF-8 (\"\\xf5\\x80\\x80\\x80\")");
  /* (\xf5 would start a code point above U+10FFFF) */

  /* Nothing was added by the failed calls; good text still goes in. */
  assert_null(m->name);
  assert_int_equal(m->nenv, 0);
  assert_int_equal(m->nargs, 1);
  assert_int_equal(m->ndirs, 0);
  assert_int_equal(m->nconfig, 0);
  assert_null(wp_manifest_allow_dir(m, "/srv\xff", "/d", false)); /* the host's bytes */
  assert_null(wp_manifest_set_env(m, "\xc3\xa9", "\xf4\x8f\xbf\xbf")); /* U+10FFFF */
  assert_int_equal(m->nenv, 1);
  wp_manifest_free(m);
}

/* Keys with bad bytes in messages become '?'; values are escaped. */
static void test_message_escapes_bad_bytes(void **state) {
  (void)state;
  PARSE_FAILS("{\"wasi\": {\"stdout\": \"a\xff\x62\"}}", "got \"a\\xffb\"");
  PARSE_FAILS("{\"limits\": {\"me\xffmory\": 1}}", "unknown field 'limits.me?mory'");
  PARSE_FAILS("{\"config\": {\"k\xe2\x82\": 1}}", "'config.k?"
                                                  "?' must be a string");
}

/* ------------------------------------------------------------------------ */
/* Many keys: lookups through the hash index                                */
/* ------------------------------------------------------------------------ */

/* A JSON object of `n` keys "<prefix><i>" with values "v<i>", then `extra`. */
static char *many_keys_json(const char *section, const char *prefix, size_t n, const char *extra) {
  size_t cap = n * 40 + strlen(extra) + 64, len, i;
  char *json = malloc(cap);

  assert_non_null(json);
  len = (size_t)snprintf(json, cap, "{%s: {", section);
  for (i = 0; i < n; i++)
    len += (size_t)snprintf(json + len, cap - len, "%s\"%s%zu\": \"v%zu\"", i ? ", " : "", prefix,
                            i, i);
  snprintf(json + len, cap - len, "%s}}", extra);
  return json;
}

static void test_many_keys(void **state) {
  (void)state;
  const size_t n = 50000;
  char *json = many_keys_json("\"config\"", "key", n, ""), key[32];
  wp_manifest *m = parse_ok(json), *c;
  size_t i;

  free(json);
  assert_int_equal(m->nconfig, n);
  for (i = 0; i < n; i += 997) {
    int len = snprintf(key, sizeof key, "key%zu", i);
    char want[32];
    snprintf(want, sizeof want, "v%zu", i);
    assert_string_equal(wp_manifest_config_get(m, key, (size_t)len), want);
  }
  assert_null(wp_manifest_config_get(m, "key50000", 8));
  assert_null(wp_manifest_config_get(m, "key4", 3)); /* a prefix of keys, not a key */

  /* Replacing keeps the position; the copy answers the same. */
  assert_null(wp_manifest_set_config(m, "key7", "new"));
  assert_int_equal(m->nconfig, n);
  assert_string_equal(m->config[7].value, "new");
  c = wp_manifest_copy(m);
  assert_non_null(c);
  assert_string_equal(wp_manifest_config_get(c, "key7", 4), "new");
  assert_string_equal(wp_manifest_config_get(c, "key49999", 8), "v49999");
  assert_string_equal(c->config[n - 1].key, "key49999"); /* insertion order */
  wp_manifest_free(c);
  wp_manifest_free(m);

  /* A duplicate far down the list is still found, and named. */
  json = many_keys_json("\"wasi\": {\"env\"", "E", n, ", \"E123\": \"again\"}");
  PARSE_FAILS(json, "duplicate field 'wasi.env.E123'");
  free(json);
}

static void test_many_dirs(void **state) {
  (void)state;
  wp_manifest *m = wp_manifest_new();
  char guest[32];
  size_t i;

  for (i = 0; i < 20000; i++) {
    snprintf(guest, sizeof guest, "/g%zu", i);
    assert_null(wp_manifest_allow_dir(m, "/srv", guest, false));
  }
  assert_null(wp_manifest_allow_dir(m, "/other", "/g19999", true)); /* replaces */
  assert_int_equal(m->ndirs, 20000);
  assert_string_equal(m->dirs[19999].host, "/other");
  assert_true(m->dirs[19999].writable);
  for (i = 0; i < 20000; i++) assert_null(wp_manifest_add_arg(m, "a"));
  assert_int_equal(m->nargs, 20000);
  wp_manifest_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_manifest),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_numbers_and_sizes_in_json),
      cmocka_unit_test(test_parse_respects_length),
      cmocka_unit_test(test_invalid_json),
      cmocka_unit_test(test_unknown_fields),
      cmocka_unit_test(test_duplicate_fields),
      cmocka_unit_test(test_wrong_types),
      cmocka_unit_test(test_bad_numbers),
      cmocka_unit_test(test_bad_sources),
      cmocka_unit_test(test_bad_dirs),
      cmocka_unit_test(test_bad_size_in_json),
      cmocka_unit_test(test_message_sanitizing),
      cmocka_unit_test(test_parse_base_dir),
      cmocka_unit_test(test_load),
      cmocka_unit_test(test_load_from_cwd),
      cmocka_unit_test(test_parse_size),
      cmocka_unit_test(test_sha256_from_hex),
      cmocka_unit_test(test_setters),
      cmocka_unit_test(test_setter_errors),
      cmocka_unit_test(test_config_get),
      cmocka_unit_test(test_copy),
      cmocka_unit_test(test_load_caps),
      cmocka_unit_test(test_memory_below_a_page),
      cmocka_unit_test(test_text_in_json),
      cmocka_unit_test(test_text_in_setters),
      cmocka_unit_test(test_message_escapes_bad_bytes),
      cmocka_unit_test(test_many_keys),
      cmocka_unit_test(test_many_dirs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
