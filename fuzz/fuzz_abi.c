/*
 * fuzz_abi.c - the bytes-ABI boundary, attacked from the guest: abi.wat
 * lets the input choose what cabi_realloc returns, the return-area pointer
 * and the [ptr, len] in it, and the pointers and lengths handed to host
 * imports (wasmplug.log, config_get, error, and a bytes and a string host
 * function), then the host calls it with wp_instance_call_bytes or _string.
 *
 * Input: [mode: u8][value: u32][flags: u8][program...] (missing bytes are 0).
 * mode and value go to setup() (cabi_realloc's behaviour); flags bit 0 calls
 * through wp_instance_call_string, bit 1 makes cabi_post_run trap; the
 * program is run's input (see abi.wat).
 *
 * Must hold: no crash, leak or undefined behaviour in the host; a successful
 * call's output lies in host memory, NUL-terminated; a failure is one of the
 * kinds a misbehaving plugin may cause (ABI, trap, memory limit, host,
 * plugin; bad input only for a string input that is not UTF-8), names the
 * plugin, and marks the instance failed unless the call itself completed;
 * after a reset where one is due, the same instance serves the next call.
 *
 * The plugin is loaded and instantiated once per process (initialisation)
 * and the instance is reused, reset after each failed call, as a pool would.
 */
#include <string.h>

#include "fuzz.h"
#include "instance/instance.h"
#include "util/utf8.h"

#ifndef WP_FUZZ_DIR
#error "WP_FUZZ_DIR must name the fuzz/ directory (it holds abi.wat)"
#endif

static wp_engine *engine;
static wp_plugin *plugin;
static wp_instance *inst;
static wp_func_id fn_run, fn_setup;
static unsigned long long calls;
/* Sums of the bytes the host handed over (log messages, outputs): reading
   every byte lets AddressSanitizer check them; volatile keeps the reads. */
static volatile unsigned bytes_sum;
static bool verbose; /* WP_FUZZ_VERBOSE=1: print each call's outcome (writing seeds) */

/*
 * Wasmtime turns guest faults into signals that its own handlers catch.
 * libFuzzer would install handlers for the same signals after
 * LLVMFuzzerInitialize, taking wasm traps away from Wasmtime, so extra_flags
 * turn those off; AddressSanitizer keeps its handlers but lets Wasmtime
 * install its own over them. A fault in the host then goes from Wasmtime's
 * handler (not a wasm trap) on to AddressSanitizer's, which reports it, and
 * libFuzzer saves the input through its death callback.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
  return "allow_user_segv_handler=1:handle_segv=1:handle_sigill=1";
}

static const char *const extra_flags[] = {"-handle_segv=0", "-handle_bus=0", "-handle_ill=0",
                                          "-handle_fpe=0"};

/* The command line with extra_flags appended; lives as long as the process. */
static char **fuzz_argv;

/* Appends extra_flags to the command line libFuzzer parses after this. */
static void add_flags(int *argc, char ***argv) {
  size_t n = sizeof extra_flags / sizeof *extra_flags;
  fuzz_argv = calloc((size_t)*argc + n + 1, sizeof *fuzz_argv);
  FUZZ_CHECK(fuzz_argv != NULL, "out of memory");
  memcpy(fuzz_argv, *argv, (size_t)*argc * sizeof *fuzz_argv);
  for (size_t i = 0; i < n; i++) fuzz_argv[*argc + (int)i] = (char *)extra_flags[i];
  *argc += (int)n;
  *argv = fuzz_argv;
}

/* fuzz.bytes: its input twice over, or a failure for input starting "E". */
static wp_error *host_bytes(wp_host_call *call, const uint8_t *in, size_t len, void *ud) {
  (void)ud;
  if (len && in[0] == 'E') return wp_error_new(WP_ERR_HOST, "fuzz.bytes was asked to fail");
  uint8_t *out = malloc(2 * len + 1);
  FUZZ_CHECK(out != NULL, "out of memory");
  memcpy(out, in, len);
  memcpy(out + len, in, len);
  wp_error *err = wp_host_call_set_output(call, out, 2 * len);
  free(out);
  return err;
}

/* fuzz.string: its (UTF-8-checked) input back. */
static wp_error *host_string(wp_host_call *call, const uint8_t *in, size_t len, void *ud) {
  (void)ud;
  return wp_host_call_set_output(call, in, len);
}

/* Log messages must be readable host memory: every byte is read. */
static void on_log(void *ud, wp_log_level level, const char *name, const char *msg, size_t len) {
  (void)ud;
  for (size_t i = 0; i < len; i++) bytes_sum += (unsigned char)msg[i];
  FUZZ_CHECK(level <= WP_LOG_ERROR, "log level %d out of range", (int)level);
  FUZZ_CHECK(strcmp(name, "abi.wat") == 0, "log from '%s'", name);
}

static void check(wp_error *err, const char *what) {
  FUZZ_CHECK(err == NULL, "%s failed: %s", what, fuzz_message(err));
}

static void teardown(void) {
  wp_instance_free(inst);
  wp_plugin_free(plugin);
  wp_engine_free(engine);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  add_flags(argc, argv);
  wp_engine_config *cfg = wp_engine_config_new();
  FUZZ_CHECK(cfg != NULL, "out of memory");
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 4);
  wp_engine_config_set_log(cfg, on_log, NULL);
  check(wp_engine_new(cfg, &engine), "wp_engine_new");
  wp_engine_config_free(cfg);
  check(wp_engine_define_bytes(engine, "fuzz", "bytes", host_bytes, NULL, NULL),
        "define fuzz.bytes");
  check(wp_engine_define_string(engine, "fuzz", "string", host_string, NULL, NULL),
        "define fuzz.string");
  wp_manifest *m = wp_manifest_new();
  FUZZ_CHECK(m != NULL, "out of memory");
  check(wp_manifest_set_config(m, "greeting", "hello"), "config");
  check(wp_manifest_set_config(m, "k", ""), "config");
  check(wp_plugin_load(engine, WP_FUZZ_DIR "/abi.wat", m, &plugin), "loading abi.wat");
  wp_manifest_free(m);
  check(wp_instance_new(plugin, &inst), "wp_instance_new");
  check(wp_plugin_find_func(plugin, "run", &fn_run), "run");
  check(wp_plugin_find_func(plugin, "setup", &fn_setup), "setup");
  atexit(teardown);
  verbose = getenv("WP_FUZZ_VERBOSE") != NULL;
  return 0;
}

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void setup(uint32_t mode, uint32_t value, uint32_t post) {
  wp_val args[3] = {WP_VAL_I32((int32_t)mode), WP_VAL_I32((int32_t)value),
                    WP_VAL_I32((int32_t)post)};
  check(wp_instance_call_func(inst, fn_setup, args, 3, NULL, 0), "setup");
}

/* Calls run through the string API: the program up to its first NUL, which
   must be refused as bad input, before any call, when it is not UTF-8. */
static wp_error *call_string(const uint8_t *prog, size_t len, bool *refused) {
  char *s = fuzz_cstring(prog, len);
  *refused = !wp_utf8_valid((const uint8_t *)s, strlen(s));
  const char *out = NULL;
  wp_error *err = wp_instance_call_string(inst, "run", s, &out);
  free(s);
  if (*refused) {
    FUZZ_CHECK(err && wp_error_get_kind(err) == WP_ERR_BAD_INPUT && !inst->failed,
               "an input that is not UTF-8 was not refused as bad input");
  } else if (!err) {
    FUZZ_CHECK(out && strlen(out) <= (16u << 16), "string output larger than the plugin's memory");
  }
  return err;
}

static wp_error *call_bytes(const uint8_t *prog, size_t len) {
  const uint8_t *out = NULL;
  size_t out_len = 0;
  wp_error *err = wp_instance_call_func_bytes(inst, fn_run, prog, len, &out, &out_len);
  if (err) return err;
  FUZZ_CHECK(out && out_len <= (16u << 16),
             "output of %zu bytes is larger than the plugin's memory", out_len);
  FUZZ_CHECK(out[out_len] == '\0', "output not NUL-terminated");
  for (size_t i = 0; i < out_len; i++) bytes_sum += out[i];
  return NULL;
}

/* A failed call: a kind a plugin may cause, the plugin named, the instance
   marked failed when the call did not complete. */
static void check_failure(wp_error *err, bool input_refused) {
  const char *msg = fuzz_message(err);
  wp_error_kind kind = wp_error_get_kind(err);
  bool completed = kind == WP_ERR_PLUGIN || input_refused;
  FUZZ_CHECK(kind == WP_ERR_ABI || kind == WP_ERR_TRAP || kind == WP_ERR_MEMORY_LIMIT ||
                 kind == WP_ERR_HOST || completed,
             "a '%s' error: %s", wp_error_kind_name(kind), msg);
  FUZZ_CHECK(strstr(msg, "plugin 'abi.wat'"), "the message does not name the plugin: %s", msg);
  FUZZ_CHECK(completed || inst->failed, "a '%s' error left the instance usable: %s",
             wp_error_kind_name(kind), msg);
  FUZZ_CHECK(!inst->in_call, "the instance is still marked in a call after: %s", msg);
  wp_error_free(err);
}

/* The instance must serve an ordinary call again. */
static void check_next_call(void) {
  if (inst->failed) check(wp_instance_reset(inst), "wp_instance_reset after a failed call");
  setup(0, 0, 0);
  char want[32];
  snprintf(want, sizeof want, "ping %llu", calls);
  const char *out = NULL;
  check(wp_instance_call_string(inst, "ping", want, &out), "the call after");
  FUZZ_CHECK(strcmp(out, want) == 0, "ping returned '%s', not '%s'", out, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t head[6] = {0};
  memcpy(head, data, size < 6 ? size : 6);
  const uint8_t *prog = size > 6 ? data + 6 : data;
  size_t prog_len = size > 6 ? size - 6 : 0;
  calls++;
  setup(head[0], read_u32(head + 1), head[5] & 2);
  bool refused = false;
  wp_error *err = head[5] & 1 ? call_string(prog, prog_len, &refused) : call_bytes(prog, prog_len);
  if (verbose)
    fprintf(stderr, "fuzz_abi: call %llu: %s%s%s\n", calls,
            err ? wp_error_kind_name(wp_error_get_kind(err)) : "ok", err ? ": " : "",
            err ? wp_error_get_message(err) : "");
  if (err) check_failure(err, refused);
  check_next_call();
  return 0;
}
