/*
 * fuzz_manifest.c - the JSON manifest reader (wp_manifest_parse) on
 * arbitrary bytes.
 *
 * Must hold: no crash, leak or undefined behaviour; a refusal is
 * WP_ERR_BAD_INPUT with a message and leaves the output alone; an accepted
 * manifest is self-consistent (every config key finds its own value, paths
 * are resolved against the base directory, env names are usable) and copies.
 * The time bound (linear reading) is libFuzzer's -timeout.
 */
#include <string.h>

#include "fuzz.h"
#include "plugin/manifest.h"

#define BASE_DIR "/fuzz/base"

static void check_kvs(const wp_manifest *m) {
  for (size_t i = 0; i < m->nconfig; i++) {
    const wp_kv *kv = &m->config[i];
    FUZZ_CHECK(kv->key && kv->value, "config entry %zu is missing its key or value", i);
    const char *got = wp_manifest_config_get(m, kv->key, strlen(kv->key));
    FUZZ_CHECK(got && strcmp(got, kv->value) == 0, "config key '%s' does not find its value",
               kv->key);
  }
  for (size_t i = 0; i < m->nenv; i++) {
    const wp_kv *kv = &m->env[i];
    FUZZ_CHECK(kv->key && kv->value, "env entry %zu is missing its key or value", i);
    FUZZ_CHECK(kv->key[0] && !strchr(kv->key, '='), "env name '%s' cannot be passed to WASI",
               kv->key);
  }
  for (size_t i = 0; i < m->nargs; i++) FUZZ_CHECK(m->args[i], "argument %zu is NULL", i);
}

static void check_paths(const wp_manifest *m) {
  if (m->source_path)
    FUZZ_CHECK(m->source_path[0] == '/', "source '%s' not resolved against " BASE_DIR,
               m->source_path);
  for (size_t i = 0; i < m->ndirs; i++) {
    const wp_dir_grant *d = &m->dirs[i];
    FUZZ_CHECK(d->host && d->guest, "dir %zu is missing a path", i);
    FUZZ_CHECK(d->host[0] == '/', "dir host '%s' not resolved against " BASE_DIR, d->host);
    for (size_t j = 0; j < i; j++)
      FUZZ_CHECK(strcmp(m->dirs[j].guest, d->guest) != 0, "guest path '%s' granted twice",
                 d->guest);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse((const char *)data, size, BASE_DIR, &m);
  if (err) {
    const char *msg = fuzz_message(err);
    FUZZ_CHECK(wp_error_get_kind(err) == WP_ERR_BAD_INPUT, "refused with kind '%s': %s",
               wp_error_kind_name(wp_error_get_kind(err)), msg);
    FUZZ_CHECK(m == NULL, "the output was set although parsing failed");
    wp_error_free(err);
    return 0;
  }
  FUZZ_CHECK(m != NULL, "success without a manifest");
  check_kvs(m);
  check_paths(m);
  wp_manifest *copy = wp_manifest_copy(m);
  FUZZ_CHECK(copy != NULL, "wp_manifest_copy failed");
  FUZZ_CHECK(copy->nconfig == m->nconfig && copy->nenv == m->nenv && copy->ndirs == m->ndirs &&
                 copy->nargs == m->nargs,
             "the copy differs in size");
  check_kvs(copy);
  wp_manifest_free(copy);
  wp_manifest_free(m);
  return 0;
}
