/*
 * vm.c - one VM: an instance of a filter's module on one worker, the root
 * contexts of the plugins sharing it, the stream contexts made from them,
 * and every call into a callback (with the plugin's limits, as every call).
 *
 * A callback that fails marks the VM failed; the worker frees it at the end
 * of the public call in progress (pw_worker_reap), after telling its streams.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "proxywasm/abi.h"
#include "proxywasm/pw.h"

pw_ctx *pw_vm_find(pw_vm *vm, uint32_t id) {
  for (size_t i = 0; i < vm->nctxs; i++)
    if (vm->ctxs[i].id == id) return &vm->ctxs[i];
  return NULL;
}

static void set_effective(pw_vm *vm, uint32_t id) {
  vm->ctx = id;
  pw_ctx *c = pw_vm_find(vm, id);
  vm->root = NULL;
  for (size_t i = 0; c && i < vm->nroots; i++)
    if (vm->roots[i]->ctx == (c->root ? c->root : c->id)) vm->root = vm->roots[i];
}

bool pw_vm_set_effective(pw_vm *vm, uint32_t id) {
  if (!pw_vm_find(vm, id)) return false;
  set_effective(vm, id);
  return true;
}

wp_pw_stream *pw_vm_stream(pw_vm *vm) {
  pw_ctx *c = pw_vm_find(vm, vm->ctx);
  return c ? c->stream : NULL;
}

wp_pw_plugin *pw_vm_plugin(pw_vm *vm) { return vm->root ? vm->root->plugin : NULL; }
pw_root *pw_vm_root(pw_vm *vm) { return vm->root; }

static bool add_ctx(pw_vm *vm, pw_ctx c) {
  if (vm->nctxs == vm->cap) {
    size_t cap = vm->cap ? vm->cap * 2 : 8;
    pw_ctx *n = realloc(vm->ctxs, cap * sizeof *n);
    if (!n) return false;
    vm->ctxs = n;
    vm->cap = cap;
  }
  vm->ctxs[vm->nctxs++] = c;
  return true;
}

static void remove_ctx(pw_vm *vm, uint32_t id) {
  for (size_t i = 0; i < vm->nctxs; i++)
    if (vm->ctxs[i].id == id) {
      vm->ctxs[i] = vm->ctxs[--vm->nctxs];
      return;
    }
}

/* ---- calling a callback ------------------------------------------------------------ */

static void finish_done(pw_vm *vm);

wp_error *pw_vm_call(pw_vm *vm, pw_cb cb, uint32_t ctx, const uint32_t *args, unsigned nargs,
                     uint32_t dflt, uint32_t *result) {
  if (result) *result = dflt;
  if (vm->failed)
    return wp_error_new(WP_ERR_TRAP, "plugin '%s': its VM failed earlier", vm->inst->plugin->name);
  pw_instance *pi = pw_inst(vm->inst);
  if (!pi->has_cb[cb]) return NULL;
  wp_instance *inst = vm->inst;
  wasmtime_val_raw_t raw[8];
  for (unsigned i = 0; i < nargs; i++) raw[i].i32 = (int32_t)args[i];
  if (!nargs) raw[0].i32 = 0;
  set_effective(vm, ctx);
  vm->done_ctx = 0;
  wp_call_begin(inst);
  wasm_trap_t *trap = NULL;
  size_t slots = nargs ? nargs : 1;
  /* raw holds max(params, results) slots: each callback's type was checked at load. */
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(inst->ctx, &pi->cb[cb], raw, slots, &trap);
  wp_error *err = werr || trap ? wp_call_failure(inst, pw_callbacks[cb].name, werr, trap)
                               : wp_call_end(inst, pw_callbacks[cb].name);
  for (int fd = 0; fd < 2; fd++)
    if (vm->line[fd].len) pw_vm_output(vm, fd, NULL, 0, true);
  if (err) {
    vm->failed = true;
    return err;
  }
  if (result && pw_callbacks[cb].result) *result = (uint32_t)raw[0].i32;
  if (vm->done_ctx) finish_done(vm);
  return NULL;
}

#define PW_LINE_MAX 4096 /* a longer line is logged in pieces of this size */

static void log_line(pw_vm *vm, int fd, const uint8_t *s, size_t n) {
  while (n && (s[n - 1] == '\r' || s[n - 1] == '\n')) n--;
  if (n) pw_log(vm->w->host, pw_vm_plugin(vm), fd ? WP_LOG_ERROR : WP_LOG_INFO, (const char *)s, n);
}

void pw_vm_output(pw_vm *vm, int fd, const uint8_t *data, size_t len, bool flush) {
  wp_buf *b = &vm->line[fd];
  for (size_t i = 0; i < len; i++) {
    if (data[i] != '\n' && b->len < PW_LINE_MAX) {
      wp_buf_add(b, &data[i], 1);
      continue;
    }
    log_line(vm, fd, b->data, b->len);
    b->len = 0;
    if (data[i] != '\n') wp_buf_add(b, &data[i], 1);
  }
  if (flush && b->len) {
    log_line(vm, fd, b->data, b->len);
    b->len = 0;
  }
}

/* Logs a failure of a callback the embedder did not ask for (ticks, on_log...). */
static void log_failure(pw_vm *vm, wp_error *err) {
  pw_log(vm->w->host, pw_vm_plugin(vm), WP_LOG_ERROR, wp_error_get_message(err),
         strlen(wp_error_get_message(err)));
  wp_error_free(err);
}

static void call_logged(pw_vm *vm, pw_cb cb, uint32_t ctx) {
  uint32_t arg = ctx;
  wp_error *err = pw_vm_call(vm, cb, ctx, &arg, 1, 0, NULL);
  if (err) log_failure(vm, err);
}

/* ---- contexts ------------------------------------------------------------------------ */

wp_error *pw_vm_new_context(pw_vm *vm, pw_root *root, wp_pw_stream *s, uint32_t *id) {
  pw_ctx c = {.id = vm->next_id++, .root = root->ctx, .stream = s};
  if (!add_ctx(vm, c)) return wp_error_no_memory();
  uint32_t args[2] = {c.id, root->ctx};
  wp_error *err = pw_vm_call(vm, PW_ON_CONTEXT_CREATE, c.id, args, 2, 0, NULL);
  if (err) {
    remove_ctx(vm, c.id);
    return err;
  }
  *id = c.id;
  return NULL;
}

static void delete_ctx(pw_vm *vm, uint32_t id) {
  call_logged(vm, PW_ON_LOG, id);
  if (!vm->failed) call_logged(vm, PW_ON_DELETE, id);
  remove_ctx(vm, id);
}

void pw_vm_end_context(pw_vm *vm, uint32_t id) {
  pw_ctx *c = pw_vm_find(vm, id);
  if (!c) return;
  c->stream = NULL;
  if (vm->failed) return;
  uint32_t done = 1;
  wp_error *err = pw_vm_call(vm, PW_ON_DONE, id, &id, 1, 1, &done);
  if (err) {
    log_failure(vm, err);
    return;
  }
  if (done) delete_ctx(vm, id);
  else if ((c = pw_vm_find(vm, id))) c->awaiting_done = true;
}

/* proxy_done ran for vm->done_ctx: finish it if it was waiting. */
static void finish_done(pw_vm *vm) {
  uint32_t id = vm->done_ctx;
  vm->done_ctx = 0;
  pw_ctx *c = pw_vm_find(vm, id);
  if (c && c->awaiting_done) delete_ctx(vm, id);
}

/* ---- making and starting a VM ---------------------------------------------------------- */

static wp_error *rejected(const wp_pw_plugin *p, const char *what) {
  return wp_error_new(WP_ERR_BAD_INPUT,
                      "plugin '%s': the filter rejected its %s configuration (%s returned false)",
                      p->name, what, what[0] == 'V' ? "proxy_on_vm_start" : "proxy_on_configure");
}

/* A root context for p in vm: context create, vm start (first root only), configure. */
static wp_error *start_root(pw_vm *vm, wp_pw_plugin *p, pw_root **out) {
  pw_root *r = calloc(1, sizeof *r);
  pw_root **roots = r ? realloc(vm->roots, (vm->nroots + 1) * sizeof *roots) : NULL;
  if (!roots) {
    free(r);
    return wp_error_no_memory();
  }
  vm->roots = roots;
  r->plugin = wp_pw_plugin_ref(p);
  r->ctx = vm->next_id++;
  vm->roots[vm->nroots++] = r;
  if (!add_ctx(vm, (pw_ctx){.id = r->ctx})) return wp_error_no_memory();
  uint32_t args[2] = {r->ctx, 0}, ok = 1;
  wp_error *err = pw_vm_call(vm, PW_ON_CONTEXT_CREATE, r->ctx, args, 2, 0, NULL);
  if (!err && !vm->started) {
    args[1] = (uint32_t)p->vm_config.len;
    err = pw_vm_call(vm, PW_ON_VM_START, r->ctx, args, 2, 1, &ok);
    if (!err && !ok) err = rejected(p, "VM");
    vm->started = !err;
  }
  if (!err) {
    args[1] = (uint32_t)p->plugin_config.len;
    err = pw_vm_call(vm, PW_ON_CONFIGURE, r->ctx, args, 2, 1, &ok);
    if (!err && !ok) err = rejected(p, "plugin");
  }
  if (err) vm->failed = true;
  *out = r;
  return err;
}

/* A VM is shared by plugins of one vm id, one module and one VM
   configuration (as Envoy keys its VMs): a plugin whose VM configuration
   changed gets a VM of its own, started with it. */
static bool same_vm(const pw_vm *vm, const wp_pw_plugin *p) {
  return !vm->failed && strcmp(vm->vm_id, p->vm_id) == 0 &&
         strcmp(vm->sha256, wp_plugin_get_sha256(p->plugin)) == 0 &&
         vm->vm_config_len == p->vm_config.len &&
         (!vm->vm_config_len || memcmp(vm->vm_config, p->vm_config.data, vm->vm_config_len) == 0);
}

static pw_vm *find_vm(wp_pw_worker *w, const wp_pw_plugin *p) {
  for (pw_vm *vm = w->vms; vm; vm = vm->next)
    if (same_vm(vm, p)) return vm;
  return NULL;
}

static wp_error *make_vm(wp_pw_worker *w, wp_pw_plugin *p, pw_vm **out) {
  pw_vm *vm = calloc(1, sizeof *vm);
  if (!vm || !(vm->vm_id = strdup(p->vm_id))) {
    free(vm);
    return wp_error_no_memory();
  }
  vm->w = w;
  vm->next_id = 1;
  strcpy(vm->sha256, wp_plugin_get_sha256(p->plugin));
  if (p->vm_config.len && !(vm->vm_config = malloc(p->vm_config.len))) {
    free(vm->vm_id);
    free(vm);
    return wp_error_no_memory();
  }
  if (p->vm_config.len) memcpy(vm->vm_config, p->vm_config.data, p->vm_config.len);
  vm->vm_config_len = p->vm_config.len;
  wp_error *err = wp_instance_new(p->plugin, &vm->inst);
  if (err) {
    free(vm->vm_config);
    free(vm->vm_id);
    free(vm);
    return err;
  }
  pw_inst(vm->inst)->vm = vm;
  vm->next = w->vms;
  w->vms = vm;
  *out = vm;
  return NULL;
}

wp_error *pw_vm_get(wp_pw_worker *w, wp_pw_plugin *p, pw_vm **out, pw_root **root) {
  pw_vm *vm = find_vm(w, p);
  wp_error *err = vm ? NULL : make_vm(w, p, &vm);
  if (err) return err;
  for (size_t i = 0; i < vm->nroots; i++)
    if (vm->roots[i]->plugin == p) {
      *out = vm;
      *root = vm->roots[i];
      return NULL;
    }
  if ((err = start_root(vm, p, root))) return err;
  *out = vm;
  return NULL;
}

/* A root context's goodbye: on_done, then on_delete (its on_done answer
   cannot be waited for: the root is going now). */
static void end_root(pw_vm *vm, uint32_t id) {
  uint32_t done;
  wp_error *err = pw_vm_call(vm, PW_ON_DONE, id, &id, 1, 1, &done);
  if (err) log_failure(vm, err);
  else call_logged(vm, PW_ON_DELETE, id);
}

bool pw_vm_stop_root(pw_vm *vm, const wp_pw_plugin *p) {
  for (size_t i = 0; i < vm->nroots; i++) {
    pw_root *r = vm->roots[i];
    if (r->plugin != p) continue;
    if (!vm->failed) end_root(vm, r->ctx);
    pw_worker_forget_calls(vm->w, vm, r->ctx);
    remove_ctx(vm, r->ctx);
    vm->roots[i] = vm->roots[--vm->nroots];
    pw_properties_free(r->props);
    wp_pw_plugin_free(r->plugin);
    free(r);
    break;
  }
  return vm->nroots == 0;
}

void pw_vm_fail(pw_vm *vm) {
  vm->failed = true;
  for (size_t i = 0; i < vm->nctxs; i++)
    if (vm->ctxs[i].stream) pw_stream_vm_failed(vm->ctxs[i].stream);
}

/* A healthy VM going away says goodbye to its roots (their on_done answer
   cannot be waited for: the worker is going). */
void pw_vm_free(pw_vm *vm) {
  if (!vm) return;
  for (size_t i = 0; i < vm->nroots && !vm->failed; i++) end_root(vm, vm->roots[i]->ctx);
  pw_worker_forget_calls(vm->w, vm, 0);
  wp_instance_free(vm->inst);
  for (size_t i = 0; i < vm->nroots; i++) {
    pw_properties_free(vm->roots[i]->props);
    wp_pw_plugin_free(vm->roots[i]->plugin);
    free(vm->roots[i]);
  }
  free(vm->roots);
  free(vm->ctxs);
  free(vm->vm_id);
  free(vm->vm_config);
  for (int i = 0; i < 2; i++) wp_buf_free(&vm->line[i]);
  free(vm);
}
