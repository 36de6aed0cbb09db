/*
 * grants.c - a plugin's grants: what each capability of the engine allows
 * it (wasmplug/capability.h), made from the manifest's "capabilities"
 * sections when the plugin loads and kept for its life.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "plugin/manifest.h"
#include "plugin/plugin.h"

/* "keyvalue, http" for messages (into buf). */
static const char *names_of(struct wp_capability *const *caps, size_t n, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && at < size; i++) {
    int w = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", caps[i]->methods->name);
    if (w < 0) break;
    at += (size_t)w;
  }
  return n ? buf : "none";
}

/* Every section of the manifest must belong to a capability of the engine. */
static wp_error *check_sections(const wp_plugin *p, struct wp_capability *const *caps, size_t n) {
  const wp_manifest *m = p->manifest;
  for (size_t i = 0; i < wp_manifest_capability_count(m); i++) {
    const char *name = wp_manifest_capability_name(m, i);
    size_t k = 0;
    while (k < n && strcmp(caps[k]->methods->name, name) != 0) k++;
    if (k < n) continue;
    char list[512];
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": the manifest grants capability '%s', which this engine does not "
                        "have (capabilities: %s)",
                        p->name, name, names_of(caps, n, list, sizeof list));
  }
  return NULL;
}

wp_error *wp_plugin_make_grants(wp_plugin *p) {
  size_t n;
  struct wp_capability **caps = wp_engine_capabilities(p->engine, &n);
  wp_error *err = check_sections(p, caps, n);
  if (!err && n && !(p->grants = calloc(n, sizeof *p->grants))) err = wp_error_no_memory();
  if (err) {
    free(caps);
    return err;
  }
  p->caps = caps;
  p->ngrants = n;
  for (size_t i = 0; i < n; i++) {
    const wp_capability_methods *m = caps[i]->methods;
    const char *section = wp_manifest_get_capability(p->manifest, m->name);
    err = m->grant(caps[i]->data, p->name, section, section ? strlen(section) : 0, &p->grants[i]);
    if (err) {
      /* Say where, unless the capability did. */
      const char *msg = wp_error_get_message(err);
      if (!strstr(msg, "capabilities.")) {
        wp_error *named = wp_error_new(
            wp_error_get_kind(err), WP_PLUGIN_FMT ": capabilities.%s: %s", p->name, m->name, msg);
        wp_error_free(err);
        err = named;
      }
      return err;
    }
  }
  return NULL;
}

void wp_plugin_free_grants(wp_plugin *p) {
  for (size_t i = 0; i < p->ngrants; i++)
    if (p->grants[i] && p->caps[i]->methods->grant_free)
      p->caps[i]->methods->grant_free(p->caps[i]->data, p->grants[i]);
  free(p->grants);
  free(p->caps);
  p->grants = NULL;
  p->caps = NULL;
  p->ngrants = 0;
}

void *wp_plugin_get_grant(const wp_plugin *p, const wp_capability *cap) {
  if (!p || !cap || cap->index >= p->ngrants || p->caps[cap->index] != cap) return NULL;
  return p->grants[cap->index];
}
