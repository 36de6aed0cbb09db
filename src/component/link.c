/*
 * link.c - load-time linking: the manifest's "link" has a plug component
 * serve one of the plugin's imported interfaces, both instantiated in the
 * same store, without composing a new file (docs/compose.md). The
 * forwarding and the resource handles are the Rust extension's
 * (wasmplug_link.h); this file loads the plugs, checks that they fit, and
 * instantiates them before the plugin.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wasmplug_ext.h>
#include <wasmplug_link.h>

#include "component/component.h"
#include "engine/error.h"
#include "util/file.h"

static void **link_state(void *data) { return &wp_cinst((wp_instance *)data)->link_state; }

bool wp_component_is_linked(const struct wp_component *c, const char *iface) {
  for (size_t i = 0; iface && i < c->nlinks; i++)
    if (strcmp(c->links[i], iface) == 0) return true;
  return false;
}

/* A plug's bytes, to compare its WIT before it is loaded. */
static wp_error *read_plug(wp_plugin *p, const char *iface, const char *path, uint8_t **bytes,
                           size_t *len) {
  uint64_t size = 0;
  int e = wp_file_read(path, p->max_module_size, bytes, len, &size);
  if (e)
    return wp_error_new(e == ENOENT ? WP_ERR_NOT_FOUND : WP_ERR_IO,
                        WP_PLUGIN_FMT ": cannot read the plug '%s' linked for '%s': %s; fix the "
                                      "path in the manifest's \"link\"",
                        p->name, path, iface, strerror(e));
  return NULL;
}

/* Loads a plug from its bytes. */
static wp_error *load_plug(wp_plugin *p, const char *iface, const char *path, const uint8_t *bytes,
                           size_t len, wp_plugin **plug) {
  /* The plug lives in the plugin's store, wherever that is: never a worker
     of its own, whatever the engine's default isolation says. */
  wp_manifest *m = wp_manifest_new();
  if (!m) return wp_error_no_memory();
  wp_manifest_set_isolation(m, WP_ISOLATION_NONE);
  wp_error *err = wp_plugin_load_bytes(p->engine, path, bytes, len, m, plug);
  wp_manifest_free(m);
  if (err) {
    wp_error *outer = wp_error_new(
        wp_error_get_kind(err), WP_PLUGIN_FMT ": the plug '%s' linked for '%s' does not load: %s",
        p->name, path, iface, wp_error_get_message(err));
    wp_error_free(err);
    return outer;
  }
  if (!wp_comp(*plug))
    return wp_error_new(WP_ERR_LINK,
                        WP_PLUGIN_FMT ": the plug '%s' linked for '%s' is not a component; "
                                      "only a component can serve a component's import",
                        p->name, path, iface);
  return NULL;
}

/* Whether the plug's export of `iface` fits what the plugin imports. */
static wp_error *check_fit(wp_plugin *p, const uint8_t *main, size_t len, const uint8_t *plug,
                           size_t plug_len, const char *iface, const char *path) {
  /* The plugin's bytes are binary by now (plugin.c converts text); a plug
     in the text format is converted here, and one that is not valid text is
     left for its load to report. */
  wasm_byte_vec_t text = {0, NULL};
  if (!wp_is_component_binary(plug, plug_len)) {
    wasmtime_error_t *werr = wasmtime_wat2wasm((const char *)plug, plug_len, &text);
    if (werr) {
      wasmtime_error_delete(werr);
      return NULL;
    }
    plug = (const uint8_t *)text.data;
    plug_len = text.size;
  }
  char *why = NULL;
  int rc = wasmplug_component_fit(main, len, plug, plug_len, iface, &why);
  wasm_byte_vec_delete(&text);
  wp_error *err = NULL;
  if (rc != 0)
    err = wp_error_new(WP_ERR_LINK,
                       WP_PLUGIN_FMT ": the plug '%s' linked for '%s' does not fit: %s; link a "
                                     "plug that implements the interface the plugin imports",
                       p->name, path, iface, why ? why : "out of memory");
  wasmplug_ext_string_free(why);
  return err;
}

/* The plug of file `path` (bytes read), loaded on first use: its slot in
 *slot. The same file under another spelling ("./kv.wasm") is the same plug. */
static wp_error *plug_for(wp_plugin *p, const char *iface, const char *path, const uint8_t *bytes,
                          size_t len, size_t *slot) {
  struct wp_component *c = wp_comp(p);
  char *real = realpath(path, NULL);
  if (!real) return wp_error_no_memory(); /* it was just read: only ENOMEM is left */
  for (*slot = 0; *slot < c->nplugs; (*slot)++)
    if (strcmp(c->plug_paths[*slot], real) == 0) break;
  if (*slot < c->nplugs) {
    free(real);
    return NULL;
  }
  wp_plugin *plug = NULL;
  wp_error *err = load_plug(p, iface, path, bytes, len, &plug);
  if (plug) {
    c->plug_paths[c->nplugs] = real;
    c->plugs[c->nplugs++] = plug; /* freed with the component, even after an error */
  } else {
    free(real);
  }
  return err;
}

wp_error *wp_component_link_plugs(wp_plugin *p, const uint8_t *main, size_t len, bool *linked) {
  struct wp_component *c = wp_comp(p);
  size_t n = wp_manifest_link_count(p->manifest);
  if (!n) return NULL;
  c->plugs = calloc(n, sizeof *c->plugs);
  c->plug_paths = calloc(n, sizeof *c->plug_paths);
  c->links = calloc(n, sizeof *c->links);
  c->link_slot = calloc(n, sizeof *c->link_slot);
  if (!c->plugs || !c->plug_paths || !c->links || !c->link_slot) return wp_error_no_memory();
  for (size_t i = 0; i < n; i++) {
    const char *iface, *path;
    wp_manifest_link_at(p->manifest, i, &iface, &path);
    bool imported = false;
    for (size_t j = 0; j < p->nimports; j++)
      if (p->imports[j].module && strcmp(p->imports[j].module, iface) == 0)
        imported = linked[j] = true;
    if (!imported)
      return wp_error_new(WP_ERR_BAD_INPUT,
                          WP_PLUGIN_FMT ": the manifest links '%s', which the plugin does not "
                                        "import; remove it from \"link\" (interface names are "
                                        "exact, with the version)",
                          p->name, iface);
    uint8_t *bytes = NULL;
    size_t blen = 0, slot = 0;
    wp_error *err = read_plug(p, iface, path, &bytes, &blen);
    if (!err) err = check_fit(p, main, len, bytes, blen, iface, path);
    if (!err) err = plug_for(p, iface, path, bytes, blen, &slot);
    free(bytes);
    if (err) return err;
    c->links[i] = iface;
    c->link_slot[i] = slot;
    c->nlinks = i + 1;
    wp_plugin *plug = c->plugs[slot];
    wasmtime_error_t *werr = wasmplug_component_link_plug(
        c->linker, c->component, wp_comp(plug)->component, iface, slot, link_state);
    if (werr)
      return wp_error_from_wasmtime(WP_ERR_LINK, werr,
                                    WP_PLUGIN_FMT ": cannot link '%s' to the plug '%s'", p->name,
                                    iface, path);
    /* The plug runs in the plugin's store: WASI there if either needs it. */
    if (plug->needs_wasi) p->needs_wasi = true;
  }
  return NULL;
}

wp_error *wp_component_instantiate_plugs(wp_instance *inst) {
  const struct wp_component *c = wp_comp(inst->plugin);
  wp_component_free_link_state(inst);
  for (size_t i = 0; i < c->nplugs; i++) {
    const struct wp_component *pc = wp_comp(c->plugs[i]);
    wasmtime_error_t *werr = wasmplug_link_instantiate(inst->ctx, link_state, i, pc->linker,
                                                       pc->component);
    if (werr) return wp_call_failure(inst, "instantiation of a linked plug", werr, NULL);
  }
  return NULL;
}

void wp_component_free_link_state(wp_instance *inst) {
  wp_component_instance *ci = wp_cinst(inst);
  if (!ci || !ci->link_state) return;
  wasmplug_link_state_free(ci->link_state);
  ci->link_state = NULL;
}
