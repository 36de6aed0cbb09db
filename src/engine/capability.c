/*
 * capability.c - the capabilities registered on an engine
 * (wasmplug/capability.h): a list under the engine's lock. Plugins take
 * their grants from it when they load (plugin/grants.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/error.h"

/* A capability's name: [a-z0-9_-]+ (as a manifest section name). */
static bool name_ok(const char *name) {
  if (!name || !*name) return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
      return false;
  return true;
}

static const wp_capability *find(const wp_engine *e, const char *name) {
  for (size_t i = 0; i < e->ncaps; i++)
    if (strcmp(e->caps[i]->methods->name, name) == 0) return e->caps[i];
  return NULL;
}

wp_error *wp_engine_add_capability(wp_engine *e, const wp_capability_methods *m, void *data,
                                   const wp_capability **out) {
  if (!e || !m || !m->grant)
    return wp_error_new(
        WP_ERR_BAD_INPUT,
        "wp_engine_add_capability: engine, methods and methods->grant are required");
  if (!name_ok(m->name))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_engine_add_capability: '%.64s' is not a capability name (lower-case "
                        "letters, digits, '_' and '-')",
                        m->name ? m->name : "(null)");
  wp_capability *c = calloc(1, sizeof *c);
  if (!c) return wp_error_no_memory();
  c->methods = m;
  c->data = data;
  wp_error *err = NULL;
  pthread_mutex_lock(&e->lock);
  if (find(e, m->name)) {
    err = wp_error_new(WP_ERR_BAD_INPUT, "capability '%s' is already registered", m->name);
  } else {
    wp_capability **caps = realloc(e->caps, (e->ncaps + 1) * sizeof *caps);
    if (!caps) {
      err = wp_error_no_memory();
    } else {
      e->caps = caps;
      c->index = e->ncaps;
      e->caps[e->ncaps++] = c;
    }
  }
  pthread_mutex_unlock(&e->lock);
  if (err) {
    free(c);
    return err;
  }
  if (out) *out = c;
  return NULL;
}

const wp_capability *wp_engine_get_capability(const wp_engine *e, const char *name) {
  if (!e || !name) return NULL;
  pthread_mutex_lock((pthread_mutex_t *)&e->lock);
  const wp_capability *c = find(e, name);
  pthread_mutex_unlock((pthread_mutex_t *)&e->lock);
  return c;
}

void *wp_capability_get_data(const wp_capability *c) { return c ? c->data : NULL; }

wp_capability **wp_engine_capabilities(wp_engine *e, size_t *n) {
  pthread_mutex_lock(&e->lock);
  wp_capability **copy = e->ncaps ? malloc(e->ncaps * sizeof *copy) : NULL;
  *n = copy ? e->ncaps : 0;
  if (copy) memcpy(copy, e->caps, e->ncaps * sizeof *copy);
  pthread_mutex_unlock(&e->lock);
  return copy;
}

void wp_engine_free_capabilities(wp_engine *e) {
  for (size_t i = e->ncaps; i-- > 0;) {
    wp_capability *c = e->caps[i];
    if (c->methods->free) c->methods->free(c->data);
    free(c);
  }
  free(e->caps);
  e->caps = NULL;
  e->ncaps = 0;
}
