/*
 * instance.c - wp_instance: a store, an instance of the plugin and its limits
 * (its WASI view is built in wasi.c); and the bookkeeping around every call
 * (deadlines, fuel, how a failed call is reported).
 */
#define _POSIX_C_SOURCE 200809L
#include "instance/instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"
#include "instance/wasi.h"

/* What one store may hold besides its byte budget (the plugin's memory limit,
   which all memories and tables share). Tables are charged 8 bytes per
   element, the size of a function reference. The counts keep a plugin from
   reserving address space with thousands of empty memories; a component is
   several core instances, so instances get more room. */
#define WP_TABLE_ELEM_BYTES 8
#define WP_MAX_MEMORIES 100
#define WP_MAX_TABLES 1000
#define WP_MAX_INSTANCES 1000

/*
 * A pool's fresh instance may be built in the store of the instance it
 * replaces (wp_instance_retire): a new wasm instance, memory, tables and
 * WASI context, but not a new Wasmtime store, whose making, module
 * registration and dropping are a fifth of a fresh instance's cost. Dead
 * instances stay in the store (Wasmtime frees a store's instances only with
 * it) until WP_STORE_REUSES of them, or one that used over
 * WP_STORE_REUSE_BYTES of memory, retire it for good.
 */
#define WP_STORE_REUSES 8
#define WP_STORE_REUSE_BYTES (1u << 20)

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
  /* The same decision as a wait inside WASI: stop when no time is left. */
  if (wp_instance_wasi_budget(inst) == 0)
    return wasmtime_error_new(inst->stop == WP_STOP_INTERRUPT ? "interrupted" : "timeout");
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

/* ---- making and unmaking ------------------------------------------------- */

/* Clears what belonged to the sandbox; the store is deleted unless `keep`. */
static void clear_sandbox(wp_instance *inst, bool keep) {
  if (!keep && inst->store) wasmtime_store_delete(inst->store);
  if (!keep) {
    inst->store = NULL;
    if (inst->dead_in_store)
      atomic_fetch_sub(&inst->plugin->engine->retained_dead, inst->dead_in_store);
    inst->dead_in_store = 0;
  }
  /* Host objects the plugin still held: their drop callbacks run now, once. */
  if (inst->plugin->kind->release) inst->plugin->kind->release(inst);
  inst->ctx = NULL;
  if (inst->resolved) memset(inst->resolved, 0, inst->plugin->nexports);
  wp_error_free(inst->host_error);
  inst->host_error = NULL;
  free(inst->plugin_error);
  inst->plugin_error = NULL;
  inst->stdout_buf.len = inst->stderr_buf.len = 0;
  inst->failed = false;
  inst->uses = 0;
  inst->fuel_used = 0;
}

void wp_instance_teardown(wp_instance *inst) { clear_sandbox(inst, false); }

/* Takes a place for one more dead instance in the engine's budget. */
static bool retain_one(wp_engine *e) {
  if (atomic_fetch_add(&e->retained_dead, 1) < e->retain_max) return true;
  atomic_fetch_sub(&e->retained_dead, 1);
  return false;
}

void wp_instance_retire(wp_instance *inst) {
  bool keep = inst->store && inst->ctx && !inst->failed && inst->plugin->store_reusable &&
              inst->dead_in_store + 1 < WP_STORE_REUSES &&
              inst->limits.memory_bytes + inst->limits.table_bytes <= WP_STORE_REUSE_BYTES &&
              retain_one(inst->plugin->engine);
  if (keep) inst->dead_in_store++;
  clear_sandbox(inst, keep);
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

/* Makes the store (or takes the one a retired instance kept), then the kind
   instantiates the plugin into it. */
static wp_error *build(wp_instance *inst) {
  wp_plugin *p = inst->plugin;
  inst->life = atomic_fetch_add(&p->engine->lives, 1) + 1;
  if (p->kind->build) return p->kind->build(inst);
  bool reused = inst->store != NULL;
  if (!reused) inst->store = wasmtime_store_new(p->flavor->engine, inst, NULL);
  if (!inst->store) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory making a store");
  inst->ctx = wasmtime_store_context(inst->store);
  memset(&inst->limits, 0, sizeof inst->limits);
  memset(inst->wasi_scratch, 0, sizeof inst->wasi_scratch);
  inst->limits.max_bytes = p->max_memory;
  inst->limits.table_elem_bytes = WP_TABLE_ELEM_BYTES;
  /* Wasmtime counts a store's instances, memories and tables over its life:
     each dead instance still in it had the same allowance. */
  uint32_t lives = inst->dead_in_store + 1;
  inst->limits.max_memories = WP_MAX_MEMORIES * lives;
  inst->limits.max_tables = WP_MAX_TABLES * lives;
  inst->limits.max_instances = WP_MAX_INSTANCES * lives;
  wasmplug_store_set_limits(inst->store, &inst->limits);
  if (!reused) wasmtime_store_epoch_deadline_callback(inst->store, on_epoch, inst, NULL);
  if (p->needs_wasi) {
    wp_error *err = wp_instance_setup_wasi(inst);
    if (err) return err;
  }
  return p->kind->instantiate(inst);
}

/*
 * Builds; when the pooling allocator is full (nothing of the plugin ran yet),
 * frees the dead instances kept in reused stores, this one's and every
 * pool's, and tries once more in a new store.
 */
static wp_error *build_or_reclaim(wp_instance *inst) {
  bool reused = inst->store != NULL;
  wp_error *err = build(inst);
  if (!err || wp_error_get_kind(err) != WP_ERR_BUSY) return err;
  size_t freed = reused ? inst->dead_in_store : 0;
  wp_instance_teardown(inst);
  freed += wp_pools_reclaim(inst->plugin->engine);
  if (!freed) return err;
  wp_error_free(err);
  return build(inst);
}

wp_error *wp_instance_new(wp_plugin *plugin, wp_instance **out) {
  if (!plugin || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_new: plugin and out are required");
  wp_instance *inst = calloc(1, sizeof *inst);
  if (!inst) return wp_error_no_memory();
  inst->plugin = wp_plugin_ref(plugin);
  inst->slow_calls = plugin->manifest->fuel || plugin->timeout_ns;
  atomic_init(&inst->interrupt, false);
  size_t n = plugin->nexports + 1;
  inst->resolved = calloc(n, 1);
  wp_error *err = inst->resolved ? build_or_reclaim(inst) : wp_error_no_memory();
  if (err) {
    wp_instance_free(inst);
    return err;
  }
  *out = inst;
  return NULL;
}

void wp_instance_free(wp_instance *inst) {
  if (!inst) return;
  wp_instance_teardown(inst);
  if (inst->plugin->kind->instance_free) inst->plugin->kind->instance_free(inst);
  free(inst->resolved);
  free(inst->out.data);
  free(inst->host_out.data);
  free(inst->stdout_buf.data);
  free(inst->stderr_buf.data);
  wp_plugin_free(inst->plugin);
  free(inst);
}

wp_error *wp_instance_rebuild(wp_instance *inst) {
  atomic_store(&inst->interrupt, false);
  wp_error *err = build_or_reclaim(inst);
  if (err) wp_instance_teardown(inst);
  return err;
}

wp_error *wp_instance_reset(wp_instance *inst) {
  wp_instance_teardown(inst);
  return wp_instance_rebuild(inst);
}

wp_plugin *wp_instance_get_plugin(const wp_instance *inst) { return inst->plugin; }
void wp_instance_set_user_data(wp_instance *inst, void *ud) { inst->user_data = ud; }
void *wp_instance_get_user_data(const wp_instance *inst) { return inst->user_data; }

void wp_instance_cancel_interrupt(wp_instance *inst) {
  atomic_store_explicit(&inst->interrupt, false, memory_order_release);
}

void wp_instance_interrupt(wp_instance *inst) {
  atomic_store_explicit(&inst->interrupt, true, memory_order_release);
  if (inst->plugin->kind->interrupt) inst->plugin->kind->interrupt(inst);
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

/* All the instance's linear memories together, as the store's limiter
   counts them (for a core module with one memory, its size). */
uint64_t wp_instance_get_memory_size(wp_instance *inst) {
  /* A kind that builds elsewhere (a worker) reports the size after each call. */
  return inst->ctx || inst->plugin->kind->build ? inst->limits.memory_bytes : 0;
}

/* ---- call bookkeeping ---------------------------------------------------- */

wp_error *wp_instance_check_callable(const wp_instance *inst, wp_func_id id) {
  const wp_plugin *p = inst->plugin;
  if (id >= p->nexports || p->exports[id].kind != WP_EXTERN_FUNC)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": function id %u is not one of its exported functions",
                        p->name, (unsigned)id);
  if (!inst->ctx)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": this instance could not be rebuilt after a failure; "
                                      "free it or reset it again",
                        p->name);
  if (inst->in_call)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": '%s' called while another call runs on the same "
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
  static const char *const marks[] = {"out of bounds of memory",
                                      "pointer out of bounds",
                                      "not aligned",
                                      "utf-8",
                                      "utf-16",
                                      "invalid option discriminant",
                                      "invalid expected discriminant",
                                      "invalid variant discriminant",
                                      "invalid enum discriminant",
                                      "invalid char",
                                      "out of range for `char`",
                                      "invalid flags",
                                      "invalid bool",
                                      NULL};
  for (size_t i = 0; marks[i]; i++)
    if (strstr(msg, marks[i])) return true;
  return false;
}

/* The pooling allocator had no free slot: the host is busy, not the plugin
   wrong. */
static wp_error *pool_busy(const wp_plugin *p, const char *what, const char *msg) {
  return wp_error_new(WP_ERR_BUSY,
                      WP_PLUGIN_FMT
                      ": no free instance slot for '%s' (%s): every slot of the "
                      "engine's pool is in use; retry when instances are freed, or raise "
                      "wp_engine_config_set_pooling (now %u)",
                      p->name, what, msg, (unsigned)p->engine->pooling);
}

static wp_error *timeout_error(const wp_instance *inst, const char *what) {
  const wp_plugin *p = inst->plugin;
  if (inst->deadline_engine)
    return wp_error_new(WP_ERR_TIMEOUT,
                        WP_PLUGIN_FMT
                        ": '%s' ran past the engine's %u ms instantiation timeout "
                        "(a start function or _initialize that does not finish; raise it with "
                        "wp_engine_config_set_instantiate_timeout_ms, or give the plugin a "
                        "limits.timeout_ms)",
                        p->name, what, inst->deadline_ms);
  const char *origin = p->manifest->timeout_origin;
  return wp_error_new(WP_ERR_TIMEOUT,
                      WP_PLUGIN_FMT ": call '%s' ran past its %u ms timeout (set by %s; raise it "
                                    "if the call needs longer)",
                      p->name, what, inst->deadline_ms,
                      origin ? origin : "wp_manifest_set_timeout_ms");
}

/* "3 MiB" when exact, else "2.98 MiB" (wp_format_size gives exact sizes or bytes). */
static void format_size(uint64_t bytes, char *buf, size_t cap) {
  if (bytes < (1u << 20) || bytes % 65536 == 0) wp_format_size(bytes, buf, cap);
  else snprintf(buf, cap, "%.2f MiB", (double)bytes / (1u << 20));
}

/*
 * A call that failed after the limiter refused a grow: a C or Go allocator
 * traps when malloc fails, often well below the limit, when one grow asks
 * for more than is left. Both sizes are named, and where the limit is set.
 */
static wp_error *memory_error(const wp_instance *inst, const char *what, const char *msg) {
  const wp_plugin *p = inst->plugin;
  char limit[32], used[32], asked[32];
  uint64_t in_use = inst->limits.memory_bytes + inst->limits.table_bytes;
  const char *fix = p->manifest->max_memory
                        ? "raise limits.memory in the manifest, wp_manifest_set_max_memory or "
                          "--max-memory"
                        : "the engine's limit: raise wp_engine_config_set_max_memory, or give the "
                          "plugin limits.memory";
  format_size(p->max_memory, limit, sizeof limit);
  format_size(in_use, used, sizeof used);
  format_size(inst->limits.refused_total, asked, sizeof asked);
  /* Nothing was charged yet: the memories the plugin declares are too big. */
  if (in_use == 0)
    return wp_error_new(WP_ERR_MEMORY_LIMIT,
                        WP_PLUGIN_FMT ": '%s' failed: its memories and tables need %s to start, "
                                      "over the %s limit (%s): %s",
                        p->name, what, asked, limit, fix, msg);
  /* Not even one more 64 KiB page fits: the memory is full. */
  if (in_use + 65536 > p->max_memory)
    return wp_error_new(WP_ERR_MEMORY_LIMIT,
                        WP_PLUGIN_FMT ": '%s' failed after its memory reached the %s limit (%s in "
                                      "use, a grow to %s refused; %s): %s",
                        p->name, what, limit, used, asked, fix, msg);
  return wp_error_new(WP_ERR_MEMORY_LIMIT,
                      WP_PLUGIN_FMT ": '%s' failed after a memory grow was refused below the %s "
                                    "limit: %s in use, and the grow asked for %s in all (%s): %s",
                      p->name, what, limit, used, asked, fix, msg);
}

static bool exports_func(const wp_plugin *p, const char *name) {
  for (size_t i = 0; i < p->nexports; i++)
    if (p->exports[i].kind == WP_EXTERN_FUNC && !p->exports[i].module &&
        strcmp(p->exports[i].name, name) == 0)
      return true;
  return false;
}

/*
 * A Go program built as a WASI command (`go build` without -buildmode=c-shared)
 * exports _start and no _initialize: only _start initialises the Go runtime,
 * and any other export traps in runtime.notInitialized (its stderr says "call
 * _start first", but calling it runs main and exits).
 */
static bool go_command(const wp_plugin *p, const char *backtrace) {
  return backtrace && strstr(backtrace, "runtime.notInitialized") && exports_func(p, "_start") &&
         !exports_func(p, "_initialize");
}

static wp_error *describe_failure(wp_instance *inst, const char *what, const char *msg,
                                  const char *backtrace, bool has_code, wasmtime_trap_code_t code,
                                  int exit_status, bool exited) {
  const wp_plugin *p = inst->plugin;
  if (inst->host_error) {
    wp_error *err = inst->host_error;
    inst->host_error = NULL;
    return wp_error_prefix(err, WP_PLUGIN_FMT ": '%s' failed in a host function: ", p->name, what);
  }
  if (inst->stop == WP_STOP_TIMEOUT) return timeout_error(inst, what);
  if (inst->stop == WP_STOP_INTERRUPT)
    return wp_error_new(WP_ERR_INTERRUPTED, WP_PLUGIN_FMT ": call '%s' was interrupted", p->name,
                        what);
  /* A runtime may exit instead of trapping when its allocator fails. */
  if (exited && !(exit_status != 0 && memory_exhausted(inst)))
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
  if (memory_exhausted(inst)) return memory_error(inst, what, msg);
  if (strstr(msg, "maximum concurrent limit of")) return pool_busy(p, what, msg);
  if (go_command(p, backtrace))
    return wp_error_new(WP_ERR_TRAP,
                        WP_PLUGIN_FMT
                        ": '%s' trapped because the plugin is a Go program built as a WASI "
                        "command (it exports _start and no _initialize), so the Go runtime was "
                        "never initialised and its exports cannot be called; rebuild it with "
                        "`GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`",
                        p->name, what);
  if (!has_code && is_abi_violation(msg))
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT ": '%s' returned a value that breaks the canonical ABI "
                                      "(a bug in the plugin or its bindings): %s",
                        p->name, what, msg);
  return wp_error_new(WP_ERR_TRAP, WP_PLUGIN_FMT ": call '%s' trapped: %s", p->name, what, msg);
}

wp_error *wp_call_failure(wp_instance *inst, const char *what, wasmtime_error_t *werr,
                          wasm_trap_t *trap) {
  wp_call_abandon(inst);
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
  wp_error *err = describe_failure(inst, what, msg ? wp_trap_reason(msg) : "unknown failure",
                                   backtrace, has_code, code, status, exited);
  wp_error_set_backtrace(err, backtrace);
  free(msg);
  return err;
}
