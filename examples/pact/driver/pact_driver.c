/*
 * pact_driver.c - the Pact plugin driver (pact_driver.h): plugins, their
 * catalogue, and the configure/compare calls, through wasmplug's typed
 * component calls (wp_value).
 */
#include "pact_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLUGINS 16
#define MAX_BODY (1u << 20)

typedef struct pact_plugin {
  char *name;
  wp_plugin *plugin;
  wp_instance *inst;
} pact_plugin;

struct pact_driver {
  wp_engine *engine;
  pact_plugin plugins[MAX_PLUGINS];
  size_t nplugins;
  pact_entry *entries; /* sorted by key */
  size_t nentries;
};

static wp_error *no_memory(void) { return wp_error_new(WP_ERR_NO_MEMORY, "pact: out of memory"); }

pact_driver *pact_driver_new(wp_engine *engine) {
  pact_driver *d = calloc(1, sizeof *d);
  if (d) d->engine = engine;
  return d;
}

static void entry_clear(pact_entry *e) {
  for (size_t i = 0; i < e->nvalues; i++) {
    free(e->names[i]);
    free(e->values[i]);
  }
  free(e->names);
  free(e->values);
  free(e->key);
}

void pact_driver_free(pact_driver *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nplugins; i++) {
    wp_instance_free(d->plugins[i].inst);
    wp_plugin_free(d->plugins[i].plugin);
    free(d->plugins[i].name);
  }
  for (size_t i = 0; i < d->nentries; i++) entry_clear(&d->entries[i]);
  free(d->entries);
  free(d);
}

/* ---- the catalogue ------------------------------------------------------ */

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const pact_entry *)a)->key, ((const pact_entry *)b)->key);
}

const pact_entry *pact_driver_catalogue(const pact_driver *d, size_t *count) {
  *count = d->nentries;
  return d->entries;
}

const pact_entry *pact_driver_entry(const pact_driver *d, const char *key) {
  pact_entry probe = {.key = (char *)key};
  return bsearch(&probe, d->entries, d->nentries, sizeof *d->entries, entry_cmp);
}

const char *pact_entry_value(const pact_entry *e, const char *name) {
  for (size_t i = 0; e && i < e->nvalues; i++)
    if (strcmp(e->names[i], name) == 0) return e->values[i];
  return NULL;
}

/* Whether the ';'-separated `list` holds `type` (its part before any ';'). */
static bool lists_type(const char *list, const char *type) {
  size_t tlen = strcspn(type, ";");
  while (tlen && type[tlen - 1] == ' ') tlen--;
  for (const char *p = list; *p;) {
    size_t n = strcspn(p, ";");
    if (n == tlen && strncmp(p, type, n) == 0) return true;
    p += n + (p[n] == ';');
  }
  return false;
}

const char *pact_driver_matcher_for(const pact_driver *d, const char *content_type) {
  for (size_t i = 0; i < d->nplugins; i++) {
    char prefix[256];
    snprintf(prefix, sizeof prefix, "plugin/%s/content-matcher/", d->plugins[i].name);
    for (size_t j = 0; j < d->nentries; j++) {
      const pact_entry *e = &d->entries[j];
      const char *types = pact_entry_value(e, "content-types");
      if (strncmp(e->key, prefix, strlen(prefix)) == 0 && types && lists_type(types, content_type))
        return d->plugins[i].name;
    }
  }
  return NULL;
}

/* Entry i of init's list as a catalogue entry of plugin `name`. */
static wp_error *entry_from(const char *name, const wp_value *v, pact_entry *out) {
  const char *type = wp_value_get_case(wp_value_get_field(v, "entry-type"));
  const char *key = wp_value_get_string(wp_value_get_field(v, "key"), NULL);
  const wp_value *values = wp_value_get_field(v, "values");
  if (!type || !key || !values) return wp_error_new(WP_ERR_BAD_INPUT, "pact: malformed entry");
  if (!*key || strchr(key, '/'))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "pact: plugin '%s' returned the entry key '%.64s': keys are not empty "
                        "and hold no '/'",
                        name, key);
  size_t n = wp_value_get_count(values);
  size_t klen = strlen("plugin///") + strlen(name) + strlen(type) + strlen(key) + 1;
  out->key = malloc(klen);
  out->names = calloc(n ? n : 1, sizeof *out->names);
  out->values = calloc(n ? n : 1, sizeof *out->values);
  if (!out->key || !out->names || !out->values) return no_memory();
  snprintf(out->key, klen, "plugin/%s/%s/%s", name, type, key);
  for (size_t i = 0; i < n; i++, out->nvalues++) {
    const wp_value *pair = wp_value_get_item(values, i);
    out->names[i] = strdup(wp_value_get_string(wp_value_get_item(pair, 0), NULL));
    out->values[i] = strdup(wp_value_get_string(wp_value_get_item(pair, 1), NULL));
    if (!out->names[i] || !out->values[i]) return no_memory();
  }
  return NULL;
}

/* Adds init's entries (a list<catalogue-entry>) to the catalogue. */
static wp_error *add_entries(pact_driver *d, const char *name, const wp_value *list) {
  size_t n = wp_value_get_count(list);
  pact_entry *grown = realloc(d->entries, (d->nentries + n + 1) * sizeof *grown);
  if (!grown) return no_memory();
  d->entries = grown;
  for (size_t i = 0; i < n; i++) {
    pact_entry *e = &d->entries[d->nentries];
    memset(e, 0, sizeof *e);
    wp_error *err = entry_from(name, wp_value_get_item(list, i), e);
    if (!err && pact_driver_entry(d, e->key))
      err = wp_error_new(WP_ERR_BAD_INPUT, "pact: the catalogue already has '%s'", e->key);
    if (err) {
      entry_clear(e);
      return err;
    }
    d->nentries++;
    qsort(d->entries, d->nentries, sizeof *d->entries, entry_cmp);
  }
  return NULL;
}

/* ---- plugins ------------------------------------------------------------- */

static bool name_ok(const char *s) {
  if (!*s || strlen(s) > 64) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
      return false;
  return true;
}

static pact_plugin *find_plugin(pact_driver *d, const char *name) {
  for (size_t i = 0; i < d->nplugins; i++)
    if (strcmp(d->plugins[i].name, name) == 0) return &d->plugins[i];
  return NULL;
}

wp_error *pact_driver_load(pact_driver *d, const char *name, const char *path,
                           const wp_manifest *manifest) {
  if (!name_ok(name))
    return wp_error_new(WP_ERR_BAD_INPUT, "pact: plugin name '%.64s' is not [a-z0-9_-]+", name);
  if (find_plugin(d, name) || d->nplugins == MAX_PLUGINS)
    return wp_error_new(WP_ERR_BAD_INPUT, "pact: plugin '%s' is already loaded (or too many)",
                        name);
  pact_plugin p = {.name = strdup(name)};
  if (!p.name) return no_memory();
  wp_error *err = wp_plugin_load(d->engine, path, manifest, &p.plugin);
  if (!err) err = wp_instance_new(p.plugin, &p.inst);
  /* init(implementation, version): who is asking. */
  wp_value *args[] = {wp_value_new_string("wasmplug-pact-driver"), wp_value_new_string("0.1.0")};
  wp_value *entries = NULL;
  if (!err) err = wp_instance_invoke(p.inst, "init", (const wp_value *const *)args, 2, &entries);
  if (!err) err = add_entries(d, name, entries);
  wp_value_free(args[0]);
  wp_value_free(args[1]);
  wp_value_free(entries);
  if (err) {
    wp_instance_free(p.inst);
    wp_plugin_free(p.plugin);
    free(p.name);
    return err;
  }
  d->plugins[d->nplugins++] = p;
  return NULL;
}

/* ---- configure and compare ---------------------------------------------- */

/* A list<u8> value as a malloc'd NUL-terminated buffer. */
static wp_error *bytes_of(const wp_value *v, char **out, size_t *len) {
  size_t n = wp_value_get_count(v);
  if (n > MAX_BODY)
    return wp_error_new(WP_ERR_BAD_INPUT, "pact: a body over %u bytes", (unsigned)MAX_BODY);
  char *b = malloc(n + 1);
  if (!b) return no_memory();
  for (size_t i = 0; i < n; i++) b[i] = (char)wp_value_get_uint(wp_value_get_item(v, i));
  b[n] = '\0';
  *out = b;
  *len = n;
  return NULL;
}

/* A plugin's err(string) as an error of the driver. */
static wp_error *plugin_refused(const char *plugin, const char *what, const wp_value *res) {
  const char *msg = wp_value_get_string(wp_value_get_payload(res), NULL);
  return wp_error_new(WP_ERR_PLUGIN, "pact: plugin '%s' %s: %s", plugin, what,
                      msg ? msg : "(no message)");
}

static char *field_string(const wp_value *rec, const char *name) {
  const char *s = wp_value_get_string(wp_value_get_field(rec, name), NULL);
  return strdup(s ? s : "");
}

void pact_interaction_clear(pact_interaction *i) {
  free(i->plugin);
  free(i->content_type);
  free(i->body);
  free(i->rules);
  free(i->plugin_configuration);
  memset(i, 0, sizeof *i);
}

/* The first interaction-contents of configure-interaction's ok list. */
static wp_error *interaction_from(const char *plugin, const wp_value *list, pact_interaction *out) {
  const wp_value *c = wp_value_get_item(list, 0);
  if (!c) return wp_error_new(WP_ERR_BAD_INPUT, "pact: plugin '%s' set up no contents", plugin);
  const wp_value *body = wp_value_get_field(c, "contents");
  out->plugin = strdup(plugin);
  out->content_type = field_string(body, "content-type");
  out->rules = field_string(c, "rules");
  out->plugin_configuration = field_string(c, "plugin-configuration");
  if (!out->plugin || !out->content_type || !out->rules || !out->plugin_configuration)
    return no_memory();
  return bytes_of(wp_value_get_field(body, "content"), &out->body, &out->body_len);
}

wp_error *pact_driver_configure(pact_driver *d, const char *content_type, const char *config,
                                pact_interaction *out) {
  memset(out, 0, sizeof *out);
  const char *name = pact_driver_matcher_for(d, content_type);
  if (!name)
    return wp_error_new(WP_ERR_NOT_FOUND, "pact: no plugin in the catalogue matches '%.128s'",
                        content_type);
  pact_plugin *p = find_plugin(d, name);
  wp_value *args[] = {wp_value_new_string(content_type), wp_value_new_string(config)};
  wp_value *res = NULL;
  wp_error *err = wp_instance_invoke(p->inst, "configure-interaction",
                                     (const wp_value *const *)args, 2, &res);
  if (!err && strcmp(wp_value_get_case(res), "ok") != 0)
    err = plugin_refused(name, "refused the interaction", res);
  if (!err) err = interaction_from(name, wp_value_get_payload(res), out);
  wp_value_free(args[0]);
  wp_value_free(args[1]);
  wp_value_free(res);
  if (err) pact_interaction_clear(out);
  return err;
}

static wp_value *body_value(const char *type, const void *data, size_t len) {
  static const char *const names[] = {"content-type", "content"};
  wp_value *f[] = {wp_value_new_string(type), wp_value_new_bytes(data, len)};
  return wp_value_new_record(names, f, 2);
}

static char *opt_string(const wp_value *opt) {
  const wp_value *s = wp_value_get_payload(opt);
  return s ? strdup(wp_value_get_string(s, NULL)) : NULL;
}

void pact_comparison_clear(pact_comparison *c) {
  for (size_t i = 0; i < c->nmismatches; i++) {
    pact_mismatch *m = &c->mismatches[i];
    free(m->path);
    free(m->expected);
    free(m->actual);
    free(m->message);
  }
  free(c->mismatches);
  free(c->type_mismatch);
  memset(c, 0, sizeof *c);
}

/* compare-result (variant) into *out. */
static wp_error *comparison_from(const wp_value *v, pact_comparison *out) {
  const char *which = wp_value_get_case(v);
  if (strcmp(which, "matched") == 0) {
    out->outcome = PACT_MATCHED;
    return NULL;
  }
  if (strcmp(which, "type-mismatch") == 0) {
    out->outcome = PACT_TYPE_MISMATCH;
    out->type_mismatch = strdup(wp_value_get_string(wp_value_get_payload(v), NULL));
    return out->type_mismatch ? NULL : no_memory();
  }
  out->outcome = PACT_MISMATCHES;
  const wp_value *list = wp_value_get_payload(v);
  size_t n = wp_value_get_count(list);
  out->mismatches = calloc(n ? n : 1, sizeof *out->mismatches);
  if (!out->mismatches) return no_memory();
  for (size_t i = 0; i < n; i++, out->nmismatches++) {
    const wp_value *m = wp_value_get_item(list, i);
    pact_mismatch *o = &out->mismatches[i];
    o->path = field_string(m, "path");
    o->message = field_string(m, "mismatch");
    o->expected = opt_string(wp_value_get_field(m, "expected"));
    o->actual = opt_string(wp_value_get_field(m, "actual"));
    if (!o->path || !o->message) return no_memory();
  }
  return NULL;
}

wp_error *pact_driver_compare(pact_driver *d, const pact_interaction *expected,
                              const char *actual_type, const void *actual, size_t len,
                              bool allow_unexpected_keys, pact_comparison *out) {
  memset(out, 0, sizeof *out);
  pact_plugin *p = find_plugin(d, expected->plugin);
  if (!p)
    return wp_error_new(WP_ERR_NOT_FOUND, "pact: plugin '%s' is not loaded", expected->plugin);
  static const char *const names[] = {"expected", "actual", "allow-unexpected-keys",
                                      "plugin-configuration"};
  wp_value *f[] = {body_value(expected->content_type, expected->body, expected->body_len),
                   body_value(actual_type, actual, len), wp_value_new_bool(allow_unexpected_keys),
                   wp_value_new_string(expected->plugin_configuration)};
  wp_value *req = wp_value_new_record(names, f, 4), *res = NULL;
  wp_error *err = req ? wp_instance_invoke(p->inst, "compare-contents",
                                           (const wp_value *const *)&req, 1, &res)
                      : no_memory();
  if (!err && strcmp(wp_value_get_case(res), "ok") != 0)
    err = plugin_refused(p->name, "could not compare", res);
  if (!err) err = comparison_from(wp_value_get_payload(res), out);
  wp_value_free(req);
  wp_value_free(res);
  if (err) pact_comparison_clear(out);
  return err;
}
