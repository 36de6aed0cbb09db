/*
 * dll.c - wasi:dl/dll: libraries the manifest grants (dlopen), their
 * granted symbols (dlsym), functions made of a symbol and a signature (a
 * libffi call interface, checked against the pinned one), and calls.
 *
 * A native call runs on the plugin's thread and cannot be interrupted: the
 * plugin's deadline is checked before it starts, not during it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"

#define WHY 256
#define SIG 768

/* ---- the objects ---------------------------------------------------------------------- */

typedef struct dl_symbol {
  dl_lib *lib;
  void *addr;
  const dl_sym_grant *grant;
} dl_symbol;

typedef struct dl_function {
  dl_lib *lib;
  void *addr;
  char *name;
  dl_sig sig;
  ffi_type **atypes;
  ffi_cif cif;
} dl_function;

void dl_lib_ref(dl_lib *l) { atomic_fetch_add(&l->refs, 1); }

void dl_lib_unref(dl_lib *l) {
  if (!l || atomic_fetch_sub(&l->refs, 1) != 1) return;
  dlclose(l->handle);
  free(l->name);
  free(l);
}

static void lib_drop(void *object, void *ud) {
  (void)ud;
  dl_lib_unref(object);
}

static void symbol_drop(void *object, void *ud) {
  (void)ud;
  dl_symbol *s = object;
  dl_lib_unref(s->lib);
  free(s);
}

static void function_free(dl_function *f) {
  if (!f) return;
  dl_lib_unref(f->lib);
  free(f->name);
  dl_sig_clear(&f->sig);
  free(f->atypes);
  free(f);
}

static void function_drop(void *object, void *ud) {
  (void)ud;
  function_free(object);
}

/* A handle to `obj` of `type` as ok(handle); `drop` frees obj when no handle is made. */
static wp_error *ok_handle(const dl_state *st, wp_host_call *call, const wp_resource_type *type,
                           void *obj, void (*drop)(void *, void *), wp_value **result) {
  (void)st;
  wp_value *h = wp_value_new_resource(wp_host_call_get_instance(call), type, obj);
  if (!h) {
    drop(obj, NULL);
    return dl_no_memory();
  }
  return dl_ok(result, h);
}

/* ---- library ---------------------------------------------------------------------------- */

/* open: static func(name: option<string>, flag: open-flags) -> result<library, string> */
static wp_error *l_open(wp_host_call *call, const wp_value *const *args, size_t nargs,
                        wp_value **result, void *ud) {
  const dl_state *st = ud;
  dl_grant *g;
  wp_error *err = dl_granted(st, call, "library.open", &g, result);
  if (err || !g) return err;
  const wp_value *opt = dl_arg(args, nargs, 0, WP_TYPE_OPTION);
  const wp_value *flags = dl_arg(args, nargs, 1, WP_TYPE_FLAGS);
  const wp_value *nv = opt ? wp_value_get_payload(opt) : NULL;
  if (!opt || !flags || (nv && wp_value_get_kind(nv) != WP_TYPE_STRING))
    return dl_shape("library.open", "an argument");
  const char *name = NULL;
  char names[1024];
  if (nv) {
    size_t len;
    name = wp_value_get_string(nv, &len);
    if (len == 0 || len > WP_DL_MAX_LIBRARY_NAME || strlen(name) != len)
      return dl_fail(result, "library.open: '%.200s' is not a library name", name);
  }
  const dl_lib_grant *lg = dl_grant_lib(g, name);
  if (!lg && !name)
    return dl_fail(result, "library.open: opening the main program (name none) is not granted to "
                           "this plugin: add capabilities.dl.main with its \"symbols\"");
  if (!lg)
    return dl_fail(result,
                   "library.open: library '%.200s' is not granted to this plugin "
                   "(capabilities.dl.libraries grants: %s); open a library by the name or "
                   "absolute path it is granted under",
                   name, dl_grant_lib_names(g, names, sizeof names));
  const char *shown = name ? name : "the main program";
  bool lazy = wp_value_has_flag(flags, "lazy"), now = wp_value_has_flag(flags, "now");
  bool global = wp_value_has_flag(flags, "global"), local = wp_value_has_flag(flags, "local");
  if (lazy && now)
    return dl_fail(result, "library.open: '%.200s': flags lazy and now together", shown);
  if (global && local)
    return dl_fail(result, "library.open: '%.200s': flags global and local together", shown);
  if (global && !name)
    return dl_fail(result, "library.open: the global flag is not for the main program, whose "
                           "symbols are global already");
  if (global && !lg->global)
    return dl_fail(result,
                   "library.open: '%.200s': the global flag is not granted (set \"global\": true "
                   "in capabilities.dl.libraries.%.200s)",
                   name, name);
  int mode = (lazy ? RTLD_LAZY : RTLD_NOW) | (global ? RTLD_GLOBAL : RTLD_LOCAL);
  void *h = dlopen(name, mode);
  if (!h) {
    const char *why = dlerror();
    return dl_fail(result, "library.open: cannot open library '%.200s': %s", shown,
                   why ? why : "dlopen failed");
  }
  dl_lib *l = calloc(1, sizeof *l);
  if (!l || !(l->name = strdup(shown))) {
    free(l);
    dlclose(h);
    return dl_no_memory();
  }
  l->handle = h;
  l->grant = lg;
  l->used = &g->used;
  atomic_init(&l->refs, 1);
  return ok_handle(st, call, st->library, l, lib_drop, result);
}

/* get: func(name: string) -> result<symbol, string> */
static wp_error *l_get(wp_host_call *call, const wp_value *const *args, size_t nargs,
                       wp_value **result, void *ud) {
  const dl_state *st = ud;
  void *obj;
  wp_error *err = dl_handle(call, args, nargs, 0, st->library, "library.get", &obj);
  if (err) return err;
  dl_lib *l = obj;
  const wp_value *nv = dl_arg(args, nargs, 1, WP_TYPE_STRING);
  if (!nv) return dl_shape("library.get", "name");
  size_t len;
  const char *name = wp_value_get_string(nv, &len);
  const dl_sym_grant *sg = strlen(name) == len ? dl_grant_sym(l->grant, name) : NULL;
  if (!sg) {
    char names[1024];
    return dl_fail(result,
                   "library.get: symbol '%.200s' of library '%.200s' is not granted to this plugin "
                   "(capabilities.dl.%s%.200s.symbols grants: %s)",
                   name, l->name, l->grant->name ? "libraries." : "main",
                   l->grant->name ? l->grant->name : "",
                   dl_grant_sym_names(l->grant, names, sizeof names));
  }
  dlerror();
  void *addr = dlsym(l->handle, name);
  const char *why = dlerror();
  if (why || !addr)
    return dl_fail(result, "library.get: symbol '%s' not found in library '%.200s': %s", name,
                   l->name, why ? why : "its address is NULL");
  dl_symbol *s = malloc(sizeof *s);
  if (!s) return dl_no_memory();
  *s = (dl_symbol){.lib = l, .addr = addr, .grant = sg};
  dl_lib_ref(l);
  return ok_handle(st, call, st->symbol, s, symbol_drop, result);
}

/* ---- symbol ------------------------------------------------------------------------------ */

/* The signature the plugin gives; false with *result set when it is bad. */
static wp_error *plugin_sig(const wp_value *args, const wp_value *ret, dl_sig *sig,
                            wp_value **result, bool *bad) {
  *bad = true;
  char why[WHY];
  bool oom;
  size_t n = wp_value_get_count(args);
  if (n > WP_DL_MAX_ARGS)
    return dl_fail(result, "symbol.function: bad FFI type: %zu parameters (at most %u)", n,
                   WP_DL_MAX_ARGS);
  if (n && !(sig->args = calloc(n, sizeof *sig->args))) return dl_no_memory();
  for (; sig->nargs < n; sig->nargs++) {
    dl_type *t = dl_type_from_value(wp_value_get_item(args, sig->nargs), why, sizeof why, &oom);
    if (!t)
      return oom ? dl_no_memory()
                 : dl_fail(result, "symbol.function: parameter %zu: %s", sig->nargs, why);
    sig->args[sig->nargs] = t;
  }
  const wp_value *rv = wp_value_get_payload(ret);
  if (rv && !(sig->ret = dl_type_from_value(rv, why, sizeof why, &oom)))
    return oom ? dl_no_memory() : dl_fail(result, "symbol.function: the result: %s", why);
  *bad = false;
  return NULL;
}

/* function: func(args: list<ffi-type>, ret: option<ffi-type>) -> result<function, string> */
static wp_error *s_function(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *ud) {
  const dl_state *st = ud;
  void *obj;
  wp_error *err = dl_handle(call, args, nargs, 0, st->symbol, "symbol.function", &obj);
  if (err) return err;
  dl_symbol *s = obj;
  const wp_value *al = dl_arg(args, nargs, 1, WP_TYPE_LIST);
  const wp_value *ro = dl_arg(args, nargs, 2, WP_TYPE_OPTION);
  if (!al || !ro) return dl_shape("symbol.function", "an argument");
  dl_function *f = calloc(1, sizeof *f);
  if (!f) return dl_no_memory();
  f->lib = s->lib;
  dl_lib_ref(s->lib);
  f->addr = s->addr;
  if (!(f->name = strdup(s->grant->name))) {
    function_free(f);
    return dl_no_memory();
  }
  bool bad;
  if ((err = plugin_sig(al, ro, &f->sig, result, &bad)) || bad) {
    function_free(f);
    return err;
  }
  if (s->grant->pinned && !dl_sig_equal(&s->grant->sig, &f->sig)) {
    char want[SIG], got[SIG];
    dl_sig_print(&s->grant->sig, want, sizeof want);
    dl_sig_print(&f->sig, got, sizeof got);
    err = dl_fail(result,
                  "symbol.function: symbol '%s' of library '%.200s' is pinned to %s by "
                  "capabilities.dl; the plugin asked for %s",
                  f->name, f->lib->name, want, got);
    function_free(f);
    return err;
  }
  if (!(f->atypes = calloc(f->sig.nargs + 1, sizeof *f->atypes))) {
    function_free(f);
    return dl_no_memory();
  }
  for (size_t i = 0; i < f->sig.nargs; i++) f->atypes[i] = dl_type_ffi(f->sig.args[i]);
  ffi_type *rt = f->sig.ret ? dl_type_ffi(f->sig.ret) : &ffi_type_void;
  ffi_status rc = ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)f->sig.nargs, rt, f->atypes);
  if (rc != FFI_OK) {
    char got[SIG];
    dl_sig_print(&f->sig, got, sizeof got);
    err = dl_fail(result, "symbol.function: bad FFI type: libffi refuses the signature %s (%s)",
                  got, rc == FFI_BAD_TYPEDEF ? "bad type" : "bad ABI or argument types");
    function_free(f);
    return err;
  }
  return ok_handle(st, call, st->function, f, function_drop, result);
}

/* ---- function.call ----------------------------------------------------------------------- */

typedef union slot {
  int64_t i;
  uint64_t u;
  double d;
  void *p;
} slot;

/* Makes avalue[i] point at argument i's value; false with why[] when the
   value does not fit the parameter's type. */
static wp_error *bind_arg(const dl_state *st, wp_host_call *call, const dl_type *t,
                          const wp_value *v, slot *sl, void **avalue, char *why, size_t size) {
  why[0] = '\0';
  const char *c = v && wp_value_get_kind(v) == WP_TYPE_VARIANT ? wp_value_get_case(v) : NULL;
  if (!c) return dl_shape("function.call", "an argument");
  bool ptr = !t->is_struct && t->prim == DL_POINTER;
  const wp_value *pl = wp_value_get_payload(v);
  const char *bad = NULL; /* what was given where it does not fit */
  *avalue = sl;
  if (strcmp(c, "null") == 0) {
    if (!ptr) bad = "null";
    sl->p = NULL;
  } else if (strcmp(c, "primitive") == 0) {
    if (!pl) return dl_shape("function.call", "an argument");
    if (t->is_struct) bad = "a number";
    else (void)dl_store_prim(t->prim, pl, sl, why, size); /* why[] says what failed */
  } else {
    if (!pl || (strcmp(c, "value") && strcmp(c, "address")))
      return dl_shape("function.call", "an argument");
    const wp_value *one[1] = {pl};
    void *obj;
    wp_error *err = dl_handle(call, one, 1, 0, st->alloc, "function.call", &obj);
    if (err) return err;
    dl_alloc *a = obj;
    if (strcmp(c, "address") == 0) {
      if (!ptr) bad = "an address";
      sl->p = dl_alloc_mem(a);
    } else {
      *avalue = dl_alloc_mem(a);
      if (!dl_type_equal(a->type, t)) {
        char an[WHY] = "", tn[WHY] = "";
        dl_type_print(a->type, an, sizeof an);
        dl_type_print(t, tn, sizeof tn);
        snprintf(why, size, "the value of a %s alloc for a %s", an, tn);
      }
    }
  }
  if (bad) {
    char tn[WHY] = "";
    dl_type_print(t, tn, sizeof tn);
    snprintf(why, size, "%s for a %s", bad, tn);
  }
  return NULL;
}

/* The result of a call, from libffi's return buffer; NULL when out of
   memory or (*over) over the plugin's budget. */
static wp_value *incoming(const dl_state *st, wp_host_call *call, dl_function *f, void *rbuf,
                          bool *over) {
  const dl_type *t = f->sig.ret;
  *over = false;
  if (!t->is_struct && t->prim != DL_POINTER) {
    /* libffi widens integral results narrower than a register to ffi_arg. */
    size_t sz = dl_type_size(t);
    uint8_t tmp[8];
    if (!dl_prim_is_float(t->prim) && sz < sizeof(ffi_arg)) {
      ffi_arg u;
      memcpy(&u, rbuf, sizeof u);
      uint8_t u8 = (uint8_t)u;
      uint16_t u16 = (uint16_t)u;
      uint32_t u32 = (uint32_t)u;
      memcpy(tmp, sz == 1 ? (void *)&u8 : sz == 2 ? (void *)&u16 : (void *)&u32, sz);
      rbuf = tmp;
    }
    wp_value *pv = dl_load_prim(t->prim, rbuf);
    return pv ? wp_value_new_variant("primitive", pv) : NULL;
  }
  dl_type *copy = dl_type_clone(t);
  dl_block *b = copy ? dl_block_new(copy) : NULL;
  if (!b) return NULL;
  memcpy(b->mem, rbuf, b->size);
  b->lib = f->lib; /* a returned pointer may point into the library */
  dl_lib_ref(f->lib);
  wp_value *h = NULL;
  if (!(*over = !dl_block_charge(b, f->lib->used)))
    h = dl_alloc_value(st, call, b, 0, b->type, f->lib->used, over);
  dl_block_unref(b);
  return h ? wp_value_new_variant("alloc", h) : NULL;
}

/* call: func(args: list<outgoing-value>) -> result<option<incoming-value>, string> */
static wp_error *f_call(wp_host_call *call, const wp_value *const *args, size_t nargs,
                        wp_value **result, void *ud) {
  const dl_state *st = ud;
  void *obj;
  wp_error *err = dl_handle(call, args, nargs, 0, st->function, "function.call", &obj);
  if (err) return err;
  dl_function *f = obj;
  const wp_value *list = dl_arg(args, nargs, 1, WP_TYPE_LIST);
  if (!list) return dl_shape("function.call", "args");
  size_t n = wp_value_get_count(list);
  if (n != f->sig.nargs)
    return dl_fail(result, "function.call: '%s' takes %zu arguments, %zu given", f->name,
                   f->sig.nargs, n);
  slot slots[WP_DL_MAX_ARGS];
  void *avalue[WP_DL_MAX_ARGS];
  char why[WHY];
  for (size_t i = 0; i < n; i++) {
    err = bind_arg(st, call, f->sig.args[i], wp_value_get_item(list, i), &slots[i], &avalue[i], why,
                   sizeof why);
    if (err) return err;
    if (why[0]) return dl_fail(result, "function.call: '%s' argument %zu: %s", f->name, i, why);
  }
  if (wp_host_call_time_left_ms(call) == 0)
    return wp_error_new(WP_ERR_TIMEOUT,
                        "wasi:dl function.call: the plugin's call deadline (limits.timeout_ms) "
                        "passed before '%s' was called",
                        f->name);
  size_t rsize = f->sig.ret ? dl_type_size(f->sig.ret) : 0;
  if (rsize < sizeof(ffi_arg)) rsize = sizeof(ffi_arg);
  /* Aligned for any type libffi returns. */
  slot small[4];
  void *rbuf = rsize <= sizeof small ? (void *)small : calloc(1, rsize);
  if (!rbuf) return dl_no_memory();
  void (*fn)(void);
  memcpy(&fn, &f->addr, sizeof fn);
  ffi_call(&f->cif, fn, rbuf, n ? avalue : NULL);
  bool over = false;
  wp_value *v = f->sig.ret ? incoming(st, call, f, rbuf, &over) : NULL;
  if (rbuf != small) free(rbuf);
  if (over) return dl_over_budget(result, "function.call (the call was made; its result is lost)");
  if (f->sig.ret && !v) return dl_no_memory();
  return dl_ok(result, f->sig.ret ? wp_value_new_some(v) : wp_value_new_none());
}

/* ---- the names of shared libraries ---------------------------------------------------- */

static wp_error *str_result(wp_value **result, const char *s) {
  *result = wp_value_new_string(s);
  return *result ? NULL : dl_no_memory();
}

static wp_error *d_extension(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *ud) {
  (void)call, (void)args, (void)nargs, (void)ud;
  return str_result(result, "so");
}

static wp_error *d_prefix(wp_host_call *call, const wp_value *const *args, size_t nargs,
                          wp_value **result, void *ud) {
  (void)call, (void)args, (void)nargs, (void)ud;
  return str_result(result, "lib");
}

static wp_error *d_suffix(wp_host_call *call, const wp_value *const *args, size_t nargs,
                          wp_value **result, void *ud) {
  (void)call, (void)args, (void)nargs, (void)ud;
  return str_result(result, ".so");
}

wp_error *dl_install_dll(wp_engine *e, dl_state *st) {
  wp_error *err = wp_engine_define_resource(e, DL_DLL, "library", lib_drop, NULL, NULL,
                                            &st->library);
  if (!err)
    err = wp_engine_define_resource(e, DL_DLL, "symbol", symbol_drop, NULL, NULL, &st->symbol);
  if (!err)
    err = wp_engine_define_resource(e, DL_DLL, "function", function_drop, NULL, NULL,
                                    &st->function);
  static const struct {
    const char *name;
    wp_component_fn fn;
  } fns[] = {
      {"[static]library.open", l_open},
      {"[method]library.get", l_get},
      {"[method]symbol.function", s_function},
      {"[method]function.call", f_call},
      {"extension", d_extension},
      {"prefix", d_prefix},
      {"suffix", d_suffix},
  };
  for (size_t i = 0; !err && i < sizeof fns / sizeof *fns; i++)
    err = wp_engine_define_component_func(e, DL_DLL, fns[i].name, fns[i].fn, st, NULL);
  return err;
}
