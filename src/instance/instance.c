/*
 * instance.c - wp_instance: a store, an instance of the plugin, its WASI view
 * and limits; and the bookkeeping around every call (deadlines, fuel, how a
 * failed call is reported).
 */
#define _POSIX_C_SOURCE 200809L
#include "instance/instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"

#define WP_CAPTURE_MAX (1u << 20) /* captured stdout/stderr kept per instance */

/* What one store may hold besides its byte budget (the plugin's memory limit,
   which all memories and tables share). Tables are charged 8 bytes per
   element, the size of a function reference. The counts keep a plugin from
   reserving address space with thousands of empty memories; a component is
   several core instances, so instances get more room. */
#define WP_TABLE_ELEM_BYTES 8
#define WP_MAX_MEMORIES 100
#define WP_MAX_TABLES 1000
#define WP_MAX_INSTANCES 1000

bool wp_buf_reserve(wp_buf *b, size_t cap) {
  if (cap <= b->cap) return true;
  size_t ncap = b->cap ? b->cap : 64;
  while (ncap < cap) ncap *= 2;
  uint8_t *nd = realloc(b->data, ncap);
  if (!nd) return false;
  b->data = nd;
  b->cap = ncap;
  return true;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the epoch callback: timeouts and interrupts -------------------------- */

/*
 * Runs once per timer tick while the plugin executes (the deadline is always
 * one tick ahead), so a call can be stopped within about a tick.
 */
static wasmtime_error_t *on_epoch(wasmtime_context_t *ctx, void *data, uint64_t *delta,
                                  wasmtime_update_deadline_kind_t *kind) {
  (void)ctx;
  wp_instance *inst = data;
  if (atomic_exchange_explicit(&inst->interrupt, false, memory_order_acq_rel)) {
    inst->stop = WP_STOP_INTERRUPT;
    return wasmtime_error_new("interrupted");
  }
  if (inst->deadline_ns && now_ns() >= inst->deadline_ns) {
    inst->stop = WP_STOP_TIMEOUT;
    return wasmtime_error_new("timeout");
  }
  *delta = 1;
  *kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
  return NULL;
}

bool wp_instance_take_interrupt(wp_instance *inst) {
  if (!atomic_load_explicit(&inst->interrupt, memory_order_relaxed) ||
      !atomic_exchange_explicit(&inst->interrupt, false, memory_order_acq_rel))
    return false;
  inst->stop = WP_STOP_INTERRUPT;
  return true;
}

/*
 * Asked between the slices of a wait inside WASI (sleeps, polls), where
 * neither the epoch nor fuel can stop the plugin: 0 ends the wait with a
 * trap, and describe_failure reports the reason recorded here.
 */
uint64_t wp_instance_wasi_budget(void *data) {
  wp_instance *inst = data;
  if (wp_instance_take_interrupt(inst)) return 0;
  if (!inst->deadline_ns) return UINT64_MAX;
  uint64_t now = now_ns();
  if (now >= inst->deadline_ns) {
    inst->stop = WP_STOP_TIMEOUT;
    return 0;
  }
  return inst->deadline_ns - now;
}

uint64_t *wp_instance_wasi_scratch(void *data) { return ((wp_instance *)data)->wasi_scratch; }

/* ---- WASI ---------------------------------------------------------------- */

static ptrdiff_t capture(wp_instance *inst, const wp_stdio *io, wp_buf *buf,
                         const unsigned char *data, size_t len) {
  if (io->mode == WP_STDIO_CALLBACK)
    return io->fn(io->user_data, inst, data, len) == 0 ? (ptrdiff_t)len : -5 /* EIO */;
  if (buf->len + len > WP_CAPTURE_MAX) return -27; /* EFBIG: the cap keeps a chatty plugin from
                                                      eating host memory */
  if (!wp_buf_reserve(buf, buf->len + len + 1)) return -12; /* ENOMEM */
  memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
  return (ptrdiff_t)len;
}

static ptrdiff_t on_stdout(void *data, const unsigned char *bytes, size_t len) {
  wp_instance *inst = data;
  return capture(inst, &inst->plugin->manifest->out, &inst->stdout_buf, bytes, len);
}

static ptrdiff_t on_stderr(void *data, const unsigned char *bytes, size_t len) {
  wp_instance *inst = data;
  return capture(inst, &inst->plugin->manifest->err, &inst->stderr_buf, bytes, len);
}

typedef ptrdiff_t (*stdio_cb)(void *, const unsigned char *, size_t);

static void set_stdio(wasi_config_t *wc, wp_instance *inst, wp_stdio_mode mode, bool is_out) {
  if (mode == WP_STDIO_INHERIT) {
    if (is_out) wasi_config_inherit_stdout(wc);
    else wasi_config_inherit_stderr(wc);
  } else if (mode == WP_STDIO_CAPTURE || mode == WP_STDIO_CALLBACK) {
    if (is_out) wasi_config_set_stdout_custom(wc, on_stdout, inst, NULL);
    else wasi_config_set_stderr_custom(wc, on_stderr, inst, NULL);
  }
  /* WP_STDIO_DISCARD: Wasmtime's default is a sink. */
}

/* Builds the WASI context from the manifest: nothing that is not granted. */
static wp_error *setup_wasi(wp_instance *inst) {
  const wp_manifest *m = inst->plugin->manifest;
  wasi_config_t *wc = wasi_config_new();
  if (!wc) return wp_error_no_memory();
  if (m->nargs) wasi_config_set_argv(wc, m->nargs, (const char **)m->args);
  if (m->nenv) {
    /* On the heap: a manifest may hold any number of variables, and every
       one is passed (the manifest has checked that each is UTF-8, which is
       what wasi_config_set_env needs). */
    const char **names = calloc(m->nenv, sizeof *names), **values = calloc(m->nenv, sizeof *values);
    if (!names || !values) {
      free(names);
      free(values);
      wasi_config_delete(wc);
      return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory for %zu environment variables", m->nenv);
    }
    for (size_t i = 0; i < m->nenv; i++) {
      names[i] = m->env[i].key;
      values[i] = m->env[i].value;
    }
    wasi_config_set_env(wc, m->nenv, names, values);
    free(names);
    free(values);
  }
  if (m->has_stdin) {
    wasm_byte_vec_t in;
    wasm_byte_vec_new(&in, m->stdin_len, (const char *)m->stdin_data);
    wasi_config_set_stdin_bytes(wc, &in);
  }
  set_stdio(wc, inst, m->out.mode, true);
  set_stdio(wc, inst, m->err.mode, false);
  for (size_t i = 0; i < m->ndirs; i++) {
    const wp_dir_grant *d = &m->dirs[i];
    if (!wasi_config_preopen_dir(wc, d->host, d->guest, d->writable)) {
      wasi_config_delete(wc);
      return wp_error_new(WP_ERR_IO,
                          WP_PLUGIN_FMT ": cannot open granted directory '%s'; check that it "
                          "exists and is readable",
                          inst->plugin->name, d->host);
    }
  }
  wasmtime_error_t *werr = wasmtime_context_set_wasi(inst->ctx, wc);
  if (werr) return wp_error_from_wasmtime(WP_ERR_HOST, werr, WP_PLUGIN_FMT ": WASI", inst->plugin->name);
  return NULL;
}

/* ---- making and unmaking ------------------------------------------------- */

static void teardown(wp_instance *inst) {
  if (inst->store) wasmtime_store_delete(inst->store);
  inst->store = NULL;
  /* Host objects the plugin still held: their drop callbacks run now, once. */
  if (inst->plugin->kind->release) inst->plugin->kind->release(inst);
  inst->ctx = NULL;
  inst->has_memory = inst->has_realloc = false;
  if (inst->resolved) memset(inst->resolved, 0, inst->plugin->nexports);
  wp_error_free(inst->host_error);
  inst->host_error = NULL;
  free(inst->plugin_error);
  inst->plugin_error = NULL;
  inst->stdout_buf.len = inst->stderr_buf.len = 0;
  inst->failed = false;
  inst->uses = 0;
}

/*
 * Begins an instantiation (start function, _initialize): a call like any
 * other, bounded by the plugin's timeout or, without one, by the engine's
 * instantiation timeout, so that a plugin looping at start cannot hold
 * wp_instance_new or wp_pool_take for ever.
 */
void wp_instantiation_begin(wp_instance *inst) {
  wp_call_begin(inst);
  uint64_t limit = inst->plugin->engine->instantiate_timeout_ns;
  if (inst->deadline_ns || !limit) return;
  inst->deadline_ns = now_ns() + limit;
  inst->deadline_ms = (uint32_t)(limit / 1000000u);
  inst->deadline_engine = true;
}

/* Makes the store, then the kind instantiates the plugin into it. */
static wp_error *build(wp_instance *inst) {
  wp_plugin *p = inst->plugin;
  inst->store = wasmtime_store_new(p->flavor->engine, inst, NULL);
  if (!inst->store) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory making a store");
  inst->ctx = wasmtime_store_context(inst->store);
  memset(&inst->limits, 0, sizeof inst->limits);
  memset(inst->wasi_scratch, 0, sizeof inst->wasi_scratch);
  inst->limits.max_bytes = p->max_memory;
  inst->limits.table_elem_bytes = WP_TABLE_ELEM_BYTES;
  inst->limits.max_memories = WP_MAX_MEMORIES;
  inst->limits.max_tables = WP_MAX_TABLES;
  inst->limits.max_instances = WP_MAX_INSTANCES;
  wasmplug_store_set_limits(inst->store, &inst->limits);
  wasmtime_store_epoch_deadline_callback(inst->store, on_epoch, inst, NULL);
  if (p->needs_wasi) {
    wp_error *err = setup_wasi(inst);
    if (err) return err;
  }
  return p->kind->instantiate(inst);
}

wp_error *wp_instance_new(wp_plugin *plugin, wp_instance **out) {
  if (!plugin || !out) return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_new: plugin and out are required");
  wp_instance *inst = calloc(1, sizeof *inst);
  if (!inst) return wp_error_no_memory();
  inst->plugin = wp_plugin_ref(plugin);
  inst->slow_calls = plugin->manifest->fuel || plugin->timeout_ns;
  atomic_init(&inst->interrupt, false);
  size_t n = plugin->nexports + 1;
  inst->funcs = calloc(n, sizeof *inst->funcs);
  inst->resolved = calloc(n, 1);
  wp_error *err = inst->funcs && inst->resolved ? build(inst)
                                                : wp_error_no_memory();
  if (err) {
    wp_instance_free(inst);
    return err;
  }
  *out = inst;
  return NULL;
}

void wp_instance_free(wp_instance *inst) {
  if (!inst) return;
  teardown(inst);
  free(inst->funcs);
  free(inst->cfuncs);
  free(inst->resolved);
  free(inst->out.data);
  free(inst->host_out.data);
  free(inst->stdout_buf.data);
  free(inst->stderr_buf.data);
  wp_plugin_free(inst->plugin);
  free(inst);
}

wp_error *wp_instance_reset(wp_instance *inst) {
  teardown(inst);
  atomic_store(&inst->interrupt, false);
  wp_error *err = build(inst);
  if (err) teardown(inst);
  return err;
}

wp_plugin *wp_instance_get_plugin(const wp_instance *inst) { return inst->plugin; }
void wp_instance_set_user_data(wp_instance *inst, void *ud) { inst->user_data = ud; }
void *wp_instance_get_user_data(const wp_instance *inst) { return inst->user_data; }

void wp_instance_interrupt(wp_instance *inst) {
  atomic_store_explicit(&inst->interrupt, true, memory_order_release);
}

const uint8_t *wp_instance_get_stdout(const wp_instance *inst, size_t *len) {
  *len = inst->stdout_buf.len;
  return inst->stdout_buf.data ? inst->stdout_buf.data : (const uint8_t *)"";
}

const uint8_t *wp_instance_get_stderr(const wp_instance *inst, size_t *len) {
  *len = inst->stderr_buf.len;
  return inst->stderr_buf.data ? inst->stderr_buf.data : (const uint8_t *)"";
}

uint64_t wp_instance_get_fuel_used(const wp_instance *inst) { return inst->fuel_used; }

uint8_t *wp_instance_memory(wp_instance *inst, size_t *size) {
  if (!inst->has_memory || !inst->ctx) {
    *size = 0;
    return NULL;
  }
  *size = wasmtime_memory_data_size(inst->ctx, &inst->memory);
  return wasmtime_memory_data(inst->ctx, &inst->memory);
}

uint64_t wp_instance_get_memory_size(wp_instance *inst) {
  size_t size;
  wp_instance_memory(inst, &size);
  return size;
}

bool wp_instance_resolve_func(wp_instance *inst, size_t index, wasmtime_func_t *out) {
  wasmtime_extern_t item;
  char *name; /* the C API insists on returning the name too */
  size_t name_len;
  if (!inst->ctx || !wasmtime_instance_export_nth(inst->ctx, &inst->instance, index, &name, &name_len, &item) ||
      item.kind != WASMTIME_EXTERN_FUNC)
    return false;
  inst->funcs[index] = item.of.func;
  inst->resolved[index] = 1;
  *out = item.of.func;
  return true;
}

/* ---- call bookkeeping ---------------------------------------------------- */

wp_error *wp_instance_check_callable(const wp_instance *inst, wp_func_id id) {
  const wp_plugin *p = inst->plugin;
  if (id >= p->nexports || p->exports[id].kind != WP_EXTERN_FUNC)
    return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": function id %u is not one of its exported functions",
                        p->name, (unsigned)id);
  if (!inst->ctx)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": this instance could not be rebuilt after a failure; "
                        "free it or reset it again",
                        p->name);
  if (inst->in_call)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": '%s' called while another call runs on the same "
                        "instance (a host function may not call back into its caller)",
                        p->name, p->exports[id].name);
  return NULL;
}

/*
 * The epoch deadline is not moved per call: once it has passed, the first
 * check in the call runs on_epoch, which checks this call's interrupt and
 * timeout and sets the next deadline. That costs one callback per timer tick
 * instead of a Wasmtime call per call.
 */
void wp_call_meter(wp_instance *inst) {
  const wp_plugin *p = inst->plugin;
  if (p->manifest->fuel) wasmtime_context_set_fuel(inst->ctx, p->manifest->fuel);
  if (p->timeout_ns) {
    inst->deadline_ns = now_ns() + p->timeout_ns;
    inst->deadline_ms = p->manifest->timeout_ms;
    inst->deadline_engine = false;
  }
}

static void record_fuel(wp_instance *inst) {
  uint64_t fuel = inst->plugin->manifest->fuel, left = 0;
  if (!fuel) return;
  wasmtime_error_t *werr = wasmtime_context_get_fuel(inst->ctx, &left);
  if (werr) wasmtime_error_delete(werr);
  else inst->fuel_used = fuel - left;
}

wp_error *wp_call_end_slow(wp_instance *inst, const char *what) {
  record_fuel(inst);
  if (wp_instance_take_interrupt(inst)) {
    free(inst->plugin_error);
    inst->plugin_error = NULL;
    return wp_error_new(WP_ERR_INTERRUPTED, WP_PLUGIN_FMT ": call '%s' was interrupted",
                        inst->plugin->name, what);
  }
  if (!inst->plugin_error) return NULL;
  wp_error *err = wp_error_new(WP_ERR_PLUGIN, WP_PLUGIN_FMT ": '%s' reported an error: %s",
                               inst->plugin->name, what, inst->plugin_error);
  free(inst->plugin_error);
  inst->plugin_error = NULL;
  return err;
}

/* Did the call fail after the limiter refused memory or table growth (any
   memory of the store, a component's too, or the initial size at
   instantiation)? */
static bool memory_exhausted(const wp_instance *inst) {
  return inst->limits.refused > inst->refused_at_begin;
}

/* Wasmtime's messages for values a component hands back that break the
   canonical ABI (lifting): pointers, lengths, alignment, UTF-8, discriminants. */
static bool is_abi_violation(const char *msg) {
  static const char *const marks[] = {"out of bounds of memory", "pointer out of bounds",
                                      "not aligned", "utf-8", "utf-16", "invalid option discriminant",
                                      "invalid expected discriminant", "invalid variant discriminant",
                                      "invalid enum discriminant", "invalid char", "invalid flags",
                                      "invalid bool", NULL};
  for (size_t i = 0; marks[i]; i++)
    if (strstr(msg, marks[i])) return true;
  return false;
}

/* The pooling allocator had no free slot: the host is busy, not the plugin
   wrong. */
static wp_error *pool_busy(const wp_plugin *p, const char *what, const char *msg) {
  return wp_error_new(WP_ERR_BUSY,
                      WP_PLUGIN_FMT ": no free instance slot for '%s' (%s): every slot of the "
                      "engine's pool is in use; retry when instances are freed, or raise "
                      "wp_engine_config_set_pooling (now %u)",
                      p->name, what, msg, (unsigned)p->engine->pooling);
}

static wp_error *timeout_error(const wp_instance *inst, const char *what) {
  const wp_plugin *p = inst->plugin;
  if (inst->deadline_engine)
    return wp_error_new(WP_ERR_TIMEOUT,
                        WP_PLUGIN_FMT ": '%s' ran past the engine's %u ms instantiation timeout "
                        "(a start function or _initialize that does not finish; raise it with "
                        "wp_engine_config_set_instantiate_timeout_ms, or give the plugin a "
                        "limits.timeout_ms)",
                        p->name, what, inst->deadline_ms);
  return wp_error_new(WP_ERR_TIMEOUT,
                      WP_PLUGIN_FMT ": call '%s' ran past its %u ms timeout (raise "
                      "limits.timeout_ms in the manifest if it needs longer)",
                      p->name, what, inst->deadline_ms);
}

static wp_error *describe_failure(wp_instance *inst, const char *what, const char *msg,
                                  bool has_code, wasmtime_trap_code_t code, int exit_status,
                                  bool exited) {
  const wp_plugin *p = inst->plugin;
  char size[32];
  if (inst->host_error) {
    wp_error *err = inst->host_error;
    inst->host_error = NULL;
    return wp_error_prefix(err, WP_PLUGIN_FMT ": '%s' failed in a host function: ", p->name, what);
  }
  if (inst->stop == WP_STOP_TIMEOUT) return timeout_error(inst, what);
  if (inst->stop == WP_STOP_INTERRUPT)
    return wp_error_new(WP_ERR_INTERRUPTED, WP_PLUGIN_FMT ": call '%s' was interrupted", p->name, what);
  if (exited)
    return wp_error_new(WP_ERR_TRAP, WP_PLUGIN_FMT ": '%s' called proc_exit(%d)", p->name, what,
                        exit_status);
  if (has_code && code == WASMTIME_TRAP_CODE_OUT_OF_FUEL)
    return wp_error_new(WP_ERR_FUEL,
                        WP_PLUGIN_FMT ": call '%s' ran out of fuel (limit %llu; raise "
                        "limits.fuel in the manifest if it needs more)",
                        p->name, what, (unsigned long long)p->manifest->fuel);
  if (has_code && code == WASMTIME_TRAP_CODE_STACK_OVERFLOW)
    return wp_error_new(WP_ERR_TRAP,
                        WP_PLUGIN_FMT ": call '%s' overflowed the wasm stack (recursion too "
                        "deep)",
                        p->name, what);
  if (memory_exhausted(inst))
    return wp_error_new(WP_ERR_MEMORY_LIMIT,
                        WP_PLUGIN_FMT ": '%s' failed after its memory reached the %s limit "
                        "(memories and tables asked for %llu bytes in all; raise limits.memory "
                        "in the manifest): %s",
                        p->name, what, wp_format_size(p->max_memory, size, sizeof size),
                        (unsigned long long)inst->limits.refused_total, msg);
  if (strstr(msg, "maximum concurrent limit of")) return pool_busy(p, what, msg);
  if (!has_code && is_abi_violation(msg))
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT ": '%s' returned a value that breaks the canonical ABI "
                        "(a bug in the plugin or its bindings): %s",
                        p->name, what, msg);
  return wp_error_new(WP_ERR_TRAP, WP_PLUGIN_FMT ": call '%s' trapped: %s", p->name, what, msg);
}

wp_error *wp_call_failure(wp_instance *inst, const char *what, wasmtime_error_t *werr,
                          wasm_trap_t *trap) {
  inst->in_call = false;
  inst->failed = true;
  record_fuel(inst);
  free(inst->plugin_error);
  inst->plugin_error = NULL;
  /* Frames borrow from the trap or error: format them before freeing those. */
  wasm_frame_vec_t frames = {0, NULL};
  char *msg = NULL, *backtrace = NULL;
  bool has_code = false, exited = false;
  wasmtime_trap_code_t code = 0;
  int status = 0;
  if (trap) {
    has_code = wasmtime_trap_code(trap, &code);
    wasm_message_t m;
    wasm_trap_message(trap, &m);
    msg = strndup(m.data, m.size ? m.size - (m.data[m.size - 1] == '\0') : 0);
    wasm_byte_vec_delete(&m);
    wasm_trap_trace(trap, &frames);
    backtrace = wp_backtrace_format(&frames, inst->plugin->name);
    wasm_frame_vec_delete(&frames);
    wasm_trap_delete(trap);
  }
  if (werr) {
    exited = wasmtime_error_exit_status(werr, &status);
    if (!backtrace) {
      wasmtime_error_wasm_trace(werr, &frames);
      backtrace = wp_backtrace_format(&frames, inst->plugin->name);
      wasm_frame_vec_delete(&frames);
    }
    free(msg);
    msg = wp_wasmtime_error_take(werr);
    /* Component calls report traps as errors without a trap code. */
    if (!has_code && msg && strstr(msg, "all fuel consumed")) {
      has_code = true;
      code = WASMTIME_TRAP_CODE_OUT_OF_FUEL;
    } else if (!has_code && msg && strstr(msg, "call stack exhausted")) {
      has_code = true;
      code = WASMTIME_TRAP_CODE_STACK_OVERFLOW;
    }
  }
  wp_error *err = describe_failure(inst, what, msg ? wp_trap_reason(msg) : "unknown failure", has_code, code,
                                   status, exited);
  wp_error_set_backtrace(err, backtrace);
  free(msg);
  return err;
}
