/*
 * compose.c - wp_compose: components plugged into a component's imports
 * ahead of time, through the Rust extension (wasm-compose; wasmplug_ext.h).
 */
#include <stdlib.h>
#include <string.h>

#include <wasmplug_ext.h>

#include "engine/error.h"
#include "plugin/plugin.h"

wp_error *wp_compose(const void *main, size_t main_len, const wp_plug *plugs, size_t nplugs,
                     void **out, size_t *out_len) {
  if (!main || !out || !out_len || (nplugs && !plugs))
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_compose: the main component, the plugs and out "
                                          "are required");
  if (!nplugs)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_compose: no plug given: name at least one component to plug in");
  if (!wp_is_component_binary(main, main_len))
    return wp_error_new(WP_ERR_LOAD, "wp_compose: the main component is not a binary component");
  for (size_t i = 0; i < nplugs; i++)
    if (!plugs[i].bytes || !wp_is_component_binary(plugs[i].bytes, plugs[i].len))
      return wp_error_new(WP_ERR_LOAD, "wp_compose: plug '%s' is not a binary component",
                          plugs[i].name ? plugs[i].name : "?");
  const char **names = calloc(nplugs, sizeof *names);
  const uint8_t **bytes = calloc(nplugs, sizeof *bytes);
  size_t *lens = calloc(nplugs, sizeof *lens);
  wp_error *err = NULL;
  if (!names || !bytes || !lens) err = wp_error_no_memory();
  for (size_t i = 0; !err && i < nplugs; i++) {
    names[i] = plugs[i].name;
    bytes[i] = plugs[i].bytes;
    lens[i] = plugs[i].len;
  }
  uint8_t *result = NULL;
  size_t rlen = 0;
  char *msg = NULL;
  if (!err && wasmplug_compose(main, main_len, names, bytes, lens, nplugs, &result, &rlen, &msg)) {
    bool misfit = msg && (strstr(msg, "does not fit") || strstr(msg, "satisfies none"));
    err = msg ? wp_error_new(misfit ? WP_ERR_LINK : WP_ERR_LOAD, "cannot compose: %s", msg)
              : wp_error_no_memory();
  }
  wasmplug_ext_string_free(msg);
  free(names);
  free(bytes);
  free(lens);
  if (err) return err;
  *out = result;
  *out_len = rlen;
  return NULL;
}
