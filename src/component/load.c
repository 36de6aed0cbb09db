/*
 * load.c - a component plugin: compile (or take from the cache), reflect its
 * imports and exports with full WIT types, and build its own linker from
 * what it imports.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"
#include "component/http.h"
#include "engine/error.h"
#include "util/buf.h"
#include "util/str.h"

/* WASI preview 2 packages that wasmtime_component_linker_add_wasip2 provides. */
static bool is_wasip2(const char *iface) {
  static const char *const pkgs[] = {
      "wasi:cli/",     "wasi:io/", "wasi:clocks/", "wasi:filesystem/", "wasi:random/",
      "wasi:sockets/", NULL};
  for (size_t i = 0; pkgs[i]; i++)
    if (strncmp(iface, pkgs[i], strlen(pkgs[i])) == 0) return true;
  return false;
}

/* ---- walking a component type ------------------------------------------------ */

/* Calls `fn` for every function and resource, at the root or one level down in
   an instance (interface), of the component's imports or exports. */
typedef bool (*item_fn)(void *ctx, const char *iface, const char *name,
                        const wasmtime_component_item_t *item);

static bool walk(const wasmtime_component_type_t *ct, const wasm_engine_t *engine, bool imports,
                 item_fn fn, void *ctx) {
  size_t n = imports ? wasmtime_component_type_import_count(ct, engine)
                     : wasmtime_component_type_export_count(ct, engine);
  for (size_t i = 0; i < n; i++) {
    const char *name;
    size_t len;
    wasmtime_component_item_t item;
    bool ok = imports ? wasmtime_component_type_import_nth(ct, engine, i, &name, &len, &item)
                      : wasmtime_component_type_export_nth(ct, engine, i, &name, &len, &item);
    if (!ok) continue;
    char *top = wp_strdup_n(name, len);
    bool good = top != NULL;
    if (good && item.kind == WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE) {
      const wasmtime_component_instance_type_t *it = item.of.component_instance;
      size_t m = wasmtime_component_instance_type_export_count(it, engine);
      for (size_t j = 0; j < m && good; j++) {
        const char *sub;
        size_t sublen;
        wasmtime_component_item_t si;
        if (!wasmtime_component_instance_type_export_nth(it, engine, j, &sub, &sublen, &si))
          continue;
        char *subname = wp_strdup_n(sub, sublen);
        good = subname && fn(ctx, top, subname, &si);
        free(subname);
        wasmtime_component_item_delete(&si);
      }
    } else if (good) {
      good = fn(ctx, NULL, top, &item);
    }
    free(top);
    wasmtime_component_item_delete(&item);
    if (!good) return false;
  }
  return true;
}

/* ---- reflection -------------------------------------------------------------- */

typedef struct reflect_ctx {
  wp_plugin *p;
  struct wp_component *c;
  bool imports;
  bool oom;
} reflect_ctx;

static bool collect_resource(void *vctx, const char *iface, const char *name,
                             const wasmtime_component_item_t *item) {
  (void)iface;
  reflect_ctx *r = vctx;
  struct wp_component *c = r->c;
  if (item->kind != WASMTIME_COMPONENT_ITEM_RESOURCE) return true;
  wasmtime_component_resource_type_t **t = realloc(c->res_types, (c->nres + 1) * sizeof *t);
  if (t) c->res_types = t;
  char **n = realloc(c->res_names, (c->nres + 1) * sizeof *n);
  if (n) c->res_names = n;
  if (!t || !n) return false;
  c->res_names[c->nres] = strdup(name);
  c->res_types[c->nres] = wasmtime_component_resource_type_clone(item->of.resource);
  if (!c->res_names[c->nres]) return false;
  c->nres++;
  return true;
}

static wp_resource_names names_of(const struct wp_component *c) {
  return (wp_resource_names){(const wasmtime_component_resource_type_t **)c->res_types,
                             (const char **)c->res_names, c->nres};
}

/* Appends one function or resource to the plugin's imports or exports. */
static bool add_item(void *vctx, const char *iface, const char *name,
                     const wasmtime_component_item_t *item) {
  reflect_ctx *r = vctx;
  wp_plugin *p = r->p;
  struct wp_component *c = r->c;
  bool func = item->kind == WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC;
  if (!func && item->kind != WASMTIME_COMPONENT_ITEM_RESOURCE) return true; /* types, modules */
  size_t *count = r->imports ? &p->nimports : &p->nexports;
  wp_extern_info **infos = r->imports ? &p->imports : &p->exports;
  wp_extern_info *ni = realloc(*infos, (*count + 1) * sizeof **infos);
  if (!ni) return false;
  *infos = ni;
  void **extra = r->imports ? (void **)&c->import_types : (void **)&c->exports;
  size_t esize = r->imports ? sizeof(struct wp_functype *) : sizeof(wp_cexport);
  void *ne = realloc(*extra, (*count + 1) * esize);
  if (!ne) return false;
  *extra = ne;
  wp_extern_info *info = &ni[*count];
  memset(info, 0, sizeof *info);
  memset((char *)ne + *count * esize, 0, esize);
  (*count)++; /* counted now so that a failure below frees what was made */
  c->nimports = p->nimports;
  c->nexports = p->nexports;
  info->kind = func ? WP_EXTERN_FUNC : WP_EXTERN_RESOURCE;
  info->module = iface ? strdup(iface) : NULL;
  info->name = strdup(name);
  if ((iface && !info->module) || !info->name) return false;
  struct wp_functype *ft = NULL;
  if (func) {
    wp_resource_names rn = names_of(c);
    ft = wp_functype_from_wasmtime(item->of.component_func, &rn);
    if (!ft) return false;
    info->type = strdup(ft->text);
  } else {
    info->type = strdup("resource");
  }
  info->functype = ft;
  if (r->imports) {
    c->import_types[*count - 1] = ft;
  } else {
    wp_cexport *e = &c->exports[*count - 1];
    e->type = ft;
    wp_component_plan_call(e);
    size_t qlen = (iface ? strlen(iface) + 1 : 0) + strlen(name) + 1;
    if (!(e->qualified = malloc(qlen))) return false;
    snprintf(e->qualified, qlen, "%s%s%s", iface ? iface : "", iface ? "#" : "", name);
  }
  return info->type != NULL;
}

/* Export indices, resolved once per plugin; instances look functions up by them. */
static bool resolve_indices(wp_plugin *p) {
  struct wp_component *c = wp_comp(p);
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    if (e->kind != WP_EXTERN_FUNC) continue;
    wasmtime_component_export_index_t *parent = NULL;
    if (e->module) {
      parent = wasmtime_component_get_export_index(c->component, NULL, e->module,
                                                   strlen(e->module));
      if (!parent) return false;
    }
    c->exports[i].index = wasmtime_component_get_export_index(c->component, parent, e->name,
                                                              strlen(e->name));
    if (parent) wasmtime_component_export_index_delete(parent);
    if (!c->exports[i].index) return false;
  }
  return true;
}

static wp_error *reflect(wp_plugin *p) {
  struct wp_component *c = wp_comp(p);
  wasmtime_component_type_t *ct = wasmtime_component_type(c->component);
  const wasm_engine_t *engine = p->flavor->engine;
  reflect_ctx r = {.p = p, .c = c};
  bool ok = walk(ct, engine, true, collect_resource, &r) &&
            walk(ct, engine, false, collect_resource, &r);
  r.imports = true;
  ok = ok && walk(ct, engine, true, add_item, &r);
  r.imports = false;
  ok = ok && walk(ct, engine, false, add_item, &r);
  wasmtime_component_type_delete(ct);
  if (!ok)
    return wp_error_new(WP_ERR_NO_MEMORY, WP_PLUGIN_FMT ": out of memory reading its types",
                        p->name);
  if (!resolve_indices(p))
    return wp_error_new(WP_ERR_LOAD, WP_PLUGIN_FMT ": cannot resolve its exports", p->name);
  wp_component_http_detect(p);
  /* wasi:http's resources (a handler's requests too) live in the WASI p2 table. */
  if (c->http_kind == WP_HTTP_WASI) c->needs_wasi = c->needs_wasi_http = true;
  for (size_t i = 0; i < p->nimports; i++) {
    const char *iface = p->imports[i].module;
    if (iface && is_wasip2(iface)) c->needs_wasi = true;
    if (wp_component_is_wasi_http(iface)) c->needs_wasi = c->needs_wasi_http = true;
  }
  p->needs_wasi = c->needs_wasi;
  return NULL;
}

/* ---- linking ------------------------------------------------------------------ */

/* "wasi:foo/bar@1.2.3" matches a definition for "wasi:foo/bar" or the same
   versioned name. */
static bool iface_matches(const char *def, const char *import) {
  if (!def || !import) return def == import;
  if (strcmp(def, import) == 0) return true;
  size_t n = strlen(def);
  return !strchr(def, '@') && strncmp(def, import, n) == 0 && import[n] == '@';
}

/* The embedder's definition of an import; engine->lock held. */
const wp_chost_def *wp_component_find_def(const struct wp_engine *e, const char *iface,
                                          const char *name, bool resource) {
  wp_def_kind kind = resource ? WP_DEF_COMPONENT_RESOURCE : WP_DEF_COMPONENT_FUNC;
  for (const wp_def *d = e->defs; d; d = d->next)
    if (d->kind == kind && strcmp(d->name, name) == 0 && iface_matches(d->module, iface))
      return (const wp_chost_def *)d;
  return NULL;
}

typedef struct link_ctx {
  wp_plugin *p;
  bool *aliased;   /* per import: a resource that `use`s one imported before it */
  bool *missing;   /* per import: not provided by the host */
  bool *linked;    /* per import: served by a plug (the manifest's "link") */
  size_t nmissing;
} link_ctx;

/*
 * Marks the resource imports that are the same type as one imported before
 * them: an interface that `use`s another's resource (`use wasi:io/poll.{pollable}`)
 * lists it among its own exports with an `(eq ...)` type. Wasmtime takes those
 * as satisfied by the first definition and refuses any other one, stubs
 * included ("mismatched resource types"), so they are never linked nor missing.
 * reflect() kept the resource types in import order, so the k-th resource
 * import is res_types[k].
 */
static void find_aliases(const wp_plugin *p, bool *aliased) {
  const struct wp_component *c = wp_comp(p);
  size_t k = 0;
  for (size_t i = 0; i < p->nimports && k < c->nres; i++) {
    if (p->imports[i].kind != WP_EXTERN_RESOURCE) continue;
    for (size_t j = 0; j < k && !aliased[i]; j++)
      aliased[i] = wasmtime_component_resource_type_equal(c->res_types[j], c->res_types[k]);
    k++;
  }
}

/* Links the imports of one interface (or of the root when iface is NULL). */
static wasmtime_error_t *link_group(link_ctx *l, wasmtime_component_linker_instance_t *li,
                                    const char *iface) {
  wp_plugin *p = l->p;
  for (size_t i = 0; i < p->nimports; i++) {
    const wp_extern_info *imp = &p->imports[i];
    if (!(iface ? imp->module && strcmp(imp->module, iface) == 0 : imp->module == NULL)) continue;
    if (l->aliased[i] || l->linked[i]) continue;
    bool resource = imp->kind == WP_EXTERN_RESOURCE;
    const wp_chost_def *d = iface && wp_component_is_builtin_iface(iface) && !resource
                                ? wp_component_builtin(imp->name)
                                : wp_component_find_def(p->engine, iface, imp->name, resource);
    if (!d) {
      l->missing[i] = true;
      l->nmissing++;
    }
    /* A missing import gets a stub only when the plugin asked for traps;
       otherwise loading fails below with the list. */
    if (!d && !p->manifest->trap_missing_imports) continue;
    wasmtime_error_t *werr = resource
                                 ? wp_component_link_resource(li, imp->name, d)
                                 : wp_component_link_func(li, imp, d, wp_comp(p)->import_types[i]);
    if (werr) return werr;
  }
  return NULL;
}

/* ---- the message for missing imports ------------------------------------------ */

/* At most this many interfaces are named, with at most this many items each. */
#define MISSING_IFACES 4
#define MISSING_ITEMS 3
/* A list this long or shorter is given in full, each import with its type. */
#define MISSING_FULL_CHARS 320

static bool same_iface(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* The full list: "iface#name (type), ...". */
static void missing_full(const link_ctx *l, wp_buf *b) {
  const wp_plugin *p = l->p;
  size_t n = 0;
  for (size_t i = 0; i < p->nimports; i++) {
    const wp_extern_info *imp = &p->imports[i];
    if (!l->missing[i]) continue;
    wp_buf_printf(b, "%s%s%s%s (%s)", n++ ? ", " : "", imp->module ? imp->module : "",
                  imp->module ? "#" : "", imp->name, imp->type);
  }
}

/* One group of the short list: "wasi:http/types@0.2.10 (12: fields, request,
   response, ...)", for the missing imports of `iface` among [from, to). */
static void missing_group(const link_ctx *l, wp_buf *b, const char *iface, size_t from, size_t to,
                          size_t *groups) {
  const wp_extern_info *imps = l->p->imports;
  size_t count = 0, shown = 0;
  for (size_t j = from; j < to; j++) count += l->missing[j] && same_iface(imps[j].module, iface);
  if (!count || (*groups)++ >= MISSING_IFACES) return;
  wp_buf_printf(b, "%s%s (", *groups > 1 ? ", " : "", iface ? iface : "the world's own imports");
  if (count > 1) wp_buf_printf(b, "%zu: ", count);
  for (size_t j = from; j < to && shown < MISSING_ITEMS; j++)
    if (l->missing[j] && same_iface(imps[j].module, iface))
      wp_buf_printf(b, "%s%s", shown++ ? ", " : "", imps[j].name);
  wp_buf_printf(b, "%s)", count > shown ? ", ..." : "");
}

/* The short list: the missing imports grouped by interface, the first
   MISSING_IFACES groups named. Import names are unique, so one interface's
   imports are contiguous; the world's own imports may be spread among them
   and come first, as one group. */
static void missing_grouped(const link_ctx *l, wp_buf *b) {
  const wp_plugin *p = l->p;
  size_t groups = 0;
  missing_group(l, b, NULL, 0, p->nimports, &groups);
  for (size_t i = 0, end; i < p->nimports; i = end) {
    const char *iface = p->imports[i].module;
    for (end = i + 1; end < p->nimports && same_iface(p->imports[end].module, iface); end++) {}
    if (iface) missing_group(l, b, iface, i, end, &groups);
  }
  if (groups > MISSING_IFACES)
    wp_buf_printf(b, " and %zu more interfaces", groups - MISSING_IFACES);
}

static wp_error *missing_error(const link_ctx *l) {
  const wp_plugin *p = l->p;
  wp_buf list = {0};
  missing_full(l, &list);
  if (list.data && list.len > MISSING_FULL_CHARS) {
    list.len = 0;
    missing_grouped(l, &list);
  }
  if (list.oom || !list.data) {
    wp_buf_free(&list);
    return wp_error_no_memory();
  }
  wp_error *err = wp_error_new(
      WP_ERR_LINK,
      WP_PLUGIN_FMT
      ": %zu import%s not provided by the host: %s. Define %s with "
      "wp_engine_define_component_func / wp_engine_define_resource before loading, "
      "or set \"imports\": {\"missing\": \"trap\"} in the manifest (--missing-imports "
      "trap) to load anyway",
      p->name, l->nmissing, l->nmissing == 1 ? " is" : "s are", (const char *)list.data,
      l->nmissing == 1 ? "it" : "them");
  wp_buf_free(&list);
  return err;
}

static wp_error *link(wp_plugin *p, const uint8_t *bytes, size_t len) {
  struct wp_component *c = wp_comp(p);
  c->linker = wasmtime_component_linker_new(p->flavor->engine);
  wasmtime_error_t *werr = c->needs_wasi ? wasmtime_component_linker_add_wasip2(c->linker) : NULL;
  /* Sleeps and polls inside WASI must end when the call's time is up. */
  if (c->needs_wasi && !werr)
    werr = wasmplug_component_linker_bound_wasip2(c->linker, p->engine->hooks->wasi_budget,
                                                  p->engine->tick_us);
  /* wasi:http/types and outgoing-handler (outgoing requests refused). */
  if (c->needs_wasi_http && !werr) werr = wasmplug_component_linker_add_wasi_http(c->linker);
  link_ctx l = {.p = p,
                .aliased = calloc(p->nimports + 1, sizeof *l.aliased),
                .missing = calloc(p->nimports + 1, sizeof *l.missing),
                .linked = calloc(p->nimports + 1, sizeof *l.linked)};
  wp_error *err = !l.aliased || !l.missing || !l.linked ? wp_error_no_memory() : NULL;
  if (!err && !werr) err = wp_component_link_plugs(p, bytes, len, l.linked);
  if (err) {
    if (werr) wasmtime_error_delete(werr);
    free(l.aliased);
    free(l.missing);
    free(l.linked);
    return err;
  }
  find_aliases(p, l.aliased);
  wasmtime_component_linker_instance_t *root = werr ? NULL
                                                    : wasmtime_component_linker_root(c->linker);
  pthread_mutex_lock(&p->engine->lock);
  if (root) werr = link_group(&l, root, NULL);
  for (size_t i = 0; !werr && i < p->nimports; i++) {
    const char *iface = p->imports[i].module;
    bool first = iface && !is_wasip2(iface) && !wp_component_is_wasi_http(iface) &&
                 !wp_component_is_linked(c, iface);
    for (size_t j = 0; first && j < i; j++)
      first = !(p->imports[j].module && strcmp(p->imports[j].module, iface) == 0);
    if (!first) continue;
    wasmtime_component_linker_instance_t *li = NULL;
    werr = wasmtime_component_linker_instance_add_instance(root, iface, strlen(iface), &li);
    if (!werr) werr = link_group(&l, li, iface);
    if (li) wasmtime_component_linker_instance_delete(li);
  }
  pthread_mutex_unlock(&p->engine->lock);
  if (root) wasmtime_component_linker_instance_delete(root);
  if (werr) err = wp_error_from_wasmtime(WP_ERR_LINK, werr, WP_PLUGIN_FMT ": cannot link", p->name);
  else if (l.nmissing && !p->manifest->trap_missing_imports) err = missing_error(&l);
  free(l.aliased);
  free(l.missing);
  free(l.linked);
  return err;
}

/* ---- the plugin ---------------------------------------------------------------- */

/*
 * A component using the Component Model's async features (async functions,
 * streams, futures) fails Wasmtime's validation, since wasmplug's engines
 * run without them (the calls and values here have no async form), with
 * "`stream` requires the component model async feature" behind "not a
 * valid WebAssembly component". Say that it is valid but unsupported, and
 * name the feature; its WIT can still be printed.
 */
static wp_error *explain_async(const wp_plugin *p, wp_error *err) {
  const char *msg = wp_error_get_message(err);
  const char *mark = strstr(msg, "component model async");
  if (!mark) return err;
  const char *cause = mark, *end = strchr(mark, '\n');
  while (cause > msg && cause[-1] != '\n') cause--;
  while (*cause == ' ') cause++;
  wp_error *better = wp_error_new(
      WP_ERR_LOAD,
      WP_PLUGIN_FMT ": uses component-model async (async functions, streams or futures), which "
                    "wasmplug cannot run: %.*s. Its WIT can still be printed (wp_component_wit, "
                    "`wasmplug inspect`)",
      p->name, (int)(end ? (size_t)(end - cause) : strlen(cause)), cause);
  wp_error_free(err);
  return better;
}

wp_error *wp_component_load(wp_plugin *p, const uint8_t *bytes, size_t len) {
  struct wp_component *c = calloc(1, sizeof *c);
  if (!c) return wp_error_no_memory();
  p->kind_data = c;
  wp_error *err = wp_cache_compile(p, bytes, len, NULL, &c->component);
  if (err) return explain_async(p, err);
  err = reflect(p);
  if (!err) err = link(p, bytes, len);
  /* The linker is complete (later definitions are not seen by this plugin). */
  if (!err) c->pre = wasmplug_component_pre_new(c->linker, c->component, NULL);
  /* A pool may build a fresh instance in the store of a retired one
     (instance.c) when a dead instance holds little: one memory and the few
     tables of a module and its shims, no plugs (each its own instances).
     What a life leaves in the store is unreachable from the next: the WASI
     context and its table are made anew, host objects are released, and
     resource handles carry their life (wp_instance.life). */
  uint32_t memories, tables;
  p->store_reusable = !err && c->pre && !c->nplugs &&
                      wasmplug_component_pre_defined(c->pre, &memories, &tables) && memories <= 1 &&
                      tables <= 4;
  return err;
}

void wp_component_free(struct wp_component *c) {
  if (!c) return;
  wasmplug_component_pre_delete(c->pre);
  if (c->linker) wasmtime_component_linker_delete(c->linker);
  if (c->component) wasmtime_component_delete(c->component);
  /* The function types are shared with wp_extern_info.functype; they are
     freed here, the infos by the plugin. */
  for (size_t i = 0; i < c->nimports; i++) wp_functype_free(c->import_types[i]);
  for (size_t i = 0; i < c->nexports; i++) {
    free(c->exports[i].qualified);
    if (c->exports[i].index) wasmtime_component_export_index_delete(c->exports[i].index);
    wp_functype_free(c->exports[i].type);
  }
  free(c->import_types);
  free(c->exports);
  for (size_t i = 0; i < c->nres; i++) {
    free(c->res_names[i]);
    wasmtime_component_resource_type_delete(c->res_types[i]);
  }
  free(c->res_names);
  free(c->res_types);
  for (size_t i = 0; i < c->nplugs; i++) {
    wp_plugin_free(c->plugs[i]);
    free(c->plug_paths[i]);
  }
  free(c->plugs);
  free(c->plug_paths);
  free(c->links);
  free(c->link_slot);
  free(c);
}
