/*
 * test_crypto.c - the crypto capability (src/host/crypto, docs/capabilities.md)
 * through real plugins: the core module test-crypto-core.wasm
 * (guest_core.c, pdk/c/wasmplug_crypto.h), its Go twin test-crypto-go.wasm
 * (go/main.go, pdk/go/crypto.go) and the component test-crypto-component.wasm
 * (guest_component.c, wasmplug:crypto/crypto).
 *
 * Known answers: FIPS 180-4 SHA-2 ("abc"), RFC 4231 HMAC-SHA-256/384/512,
 * RFC 7515 A.2 (RS256) and A.3 (ES256), RFC 8037 A.4 (Ed25519); PS256 and
 * more ES256 signatures made here with libcrypto from fresh keys. Signing
 * with granted private keys: RFC 8037 A.4 and RFC 7515 A.2 exactly (both
 * deterministic), ES256/ES384/PS256 checked by the host's verify, by the
 * public JWK the host gives out, and by libcrypto here. Every case runs
 * through both kinds; grants, named keys, malformed keys and limits too.
 */
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <unistd.h>

#include "helpers.h"

#ifndef WP_PLUGINS
#error "WP_PLUGINS must name the built plugins' directory"
#endif

/* ---- bytes ----------------------------------------------------------------------------- */

typedef struct {
  uint8_t *ptr;
  size_t len;
} bytes;

static bytes hex(const char *s) {
  size_t n = strlen(s) / 2;
  bytes b = {malloc(n + 1), n};
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
    b.ptr[i] = (uint8_t)v;
  }
  return b;
}

static bytes b64url(const char *s) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  bytes b = {malloc(strlen(s)), 0};
  uint32_t acc = 0;
  int bits = 0;
  for (const char *c = s; *c; c++) {
    const char *at = strchr(abc, *c);
    assert_non_null(at);
    acc = acc << 6 | (uint32_t)(at - abc);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      b.ptr[b.len++] = (uint8_t)(acc >> bits);
    }
  }
  return b;
}

static bytes text(const char *s) {
  bytes b = {malloc(strlen(s) + 1), strlen(s)};
  memcpy(b.ptr, s, b.len);
  return b;
}

static bytes repeat(uint8_t v, size_t n) {
  bytes b = {malloc(n), n};
  memset(b.ptr, v, n);
  return b;
}

static void assert_bytes(const uint8_t *got, size_t len, const char *want_hex) {
  bytes w = hex(want_hex);
  assert_int_equal(len, w.len);
  assert_memory_equal(got, w.ptr, len);
  free(w.ptr);
}

/* ---- the guests ------------------------------------------------------------------------ */

typedef struct {
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst;
  bool comp;
} guest;

/* The guests, by kind: the C and Go core modules, then the component when built. */
static const char *const guest_files[] = {"test-crypto-core.wasm", "test-crypto-go.wasm",
                                          "test-crypto-component.wasm"};

static const char *plugin_path(int kind) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", WP_PLUGINS, guest_files[kind]);
  return buf;
}

/* A private compile cache for this run: the Go guest is large, and every
   test loads it afresh with its own manifest. */
static char cache_dir[] = "/tmp/wp-crypto-cache-XXXXXX";

static wp_engine *cached_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, cache_dir);
  wp_engine_config_set_pooling(cfg, 16);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

/* Loads a guest with the manifest JSON (NULL: none); returns the load's error. */
static wp_error *guest_try(int kind, const char *manifest, guest *g) {
  *g = (guest){.e = cached_engine(), .comp = kind == 2};
  wp_manifest *m = NULL;
  wp_error *err = manifest ? wp_manifest_parse(manifest, strlen(manifest), NULL, &m) : NULL;
  if (!err) err = wp_plugin_load(g->e, plugin_path(kind), m, &g->p);
  wp_manifest_free(m);
  if (!err) err = wp_instance_new(g->p, &g->inst);
  return err;
}

static guest guest_new(int kind, const char *manifest) {
  guest g;
  assert_ok(guest_try(kind, manifest, &g));
  return g;
}

static void guest_free(guest *g) {
  wp_instance_free(g->inst);
  wp_plugin_free(g->p);
  wp_engine_free(g->e);
}

/* Core inputs: fields of u32 little-endian length + bytes. */
typedef struct {
  uint8_t *data;
  size_t len;
} frame;

static void put(frame *f, const void *d, size_t n) {
  f->data = realloc(f->data, f->len + 4 + n + 1);
  uint8_t *p = f->data + f->len;
  p[0] = (uint8_t)n, p[1] = (uint8_t)(n >> 8), p[2] = (uint8_t)(n >> 16), p[3] = (uint8_t)(n >> 24);
  if (n) memcpy(p + 4, d, n);
  f->len += 4 + n;
}

static void puts_(frame *f, const char *s) { put(f, s, strlen(s)); }

/* Calls a core export with a frame (freed); *out is the guest's output (borrowed). */
static wp_error *core_call(guest *g, const char *name, frame *f, const uint8_t **out, size_t *len) {
  wp_error *err = wp_instance_call_bytes(g->inst, name, f->data, f->len, out, len);
  free(f->data);
  *f = (frame){0};
  return err;
}

/* Calls a component export; takes the args. */
static wp_error *comp_call(guest *g, const char *name, wp_value **args, size_t n, wp_value **r) {
  wp_error *err = wp_instance_invoke(g->inst, name, (const wp_value *const *)args, n, r);
  for (size_t i = 0; i < n; i++) wp_value_free(args[i]);
  /* A component that trapped cannot be entered again until it is reset. */
  if (err) assert_ok(wp_instance_reset(g->inst));
  return err;
}

/* A list<u8> value's bytes into out (at most cap). */
static size_t value_bytes(const wp_value *v, uint8_t *out, size_t cap) {
  assert_int_equal(wp_value_get_kind(v), WP_TYPE_LIST);
  size_t n = wp_value_get_count(v);
  assert_true(n <= cap);
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)wp_value_get_uint(wp_value_get_item(v, i));
  return n;
}

/* hash through the guest: the digest's length, or the call's error. */
static wp_error *g_hash(guest *g, const char *alg, bytes data, uint8_t *out, size_t *len) {
  if (!g->comp) {
    frame f = {0};
    puts_(&f, alg);
    put(&f, data.ptr, data.len);
    const uint8_t *o;
    wp_error *err = core_call(g, "hash", &f, &o, len);
    if (!err) memcpy(out, o, *len);
    return err;
  }
  wp_value *args[2] = {wp_value_new_enum(alg), wp_value_new_bytes(data.ptr, data.len)}, *r = NULL;
  wp_error *err = comp_call(g, "hash", args, 2, &r);
  if (!err) *len = value_bytes(r, out, 64);
  wp_value_free(r);
  return err;
}

/* The plugin's own error: an err result, or (core) the message the guest
   passed on through wasmplug.error after `prefix`. NULL when ok. */
static char *soft_of(guest *g, wp_error **err, const char *prefix) {
  if (g->comp || !*err || wp_error_get_kind(*err) != WP_ERR_PLUGIN) return NULL;
  const char *msg = strstr(wp_error_get_message(*err), prefix);
  assert_non_null(msg);
  char *s = strdup(msg + strlen(prefix));
  wp_error_free(*err);
  *err = NULL;
  return s;
}

static char *result_err(const wp_value *r) {
  assert_int_equal(wp_value_get_kind(r), WP_TYPE_RESULT);
  if (strcmp(wp_value_get_case(r), "err") != 0) return NULL;
  return strdup(wp_value_get_string(wp_value_get_payload(r), NULL));
}

/* hmac: kind "raw" (key = bytes) or "named" (key = name). *soft: the refusal. */
static wp_error *g_hmac(guest *g, const char *alg, const char *kind, bytes key, bytes data,
                        uint8_t *out, size_t *len, char **soft) {
  *soft = NULL;
  if (!g->comp) {
    frame f = {0};
    puts_(&f, alg);
    puts_(&f, kind);
    put(&f, key.ptr, key.len);
    put(&f, data.ptr, data.len);
    const uint8_t *o;
    wp_error *err = core_call(g, "hmac", &f, &o, len);
    if (!err) memcpy(out, o, *len);
    *soft = soft_of(g, &err, "hmac refused: ");
    return err;
  }
  wp_value *k = strcmp(kind, "raw") == 0
                    ? wp_value_new_variant("raw", wp_value_new_bytes(key.ptr, key.len))
                    : wp_value_new_variant("named",
                                           wp_value_new_string_n((char *)key.ptr, key.len));
  wp_value *args[3] = {wp_value_new_enum(alg), k, wp_value_new_bytes(data.ptr, data.len)},
           *r = NULL;
  wp_error *err = comp_call(g, "hmac", args, 3, &r);
  if (!err && !(*soft = result_err(r))) *len = value_bytes(wp_value_get_payload(r), out, 64);
  wp_value_free(r);
  return err;
}

/* verify: *valid, or *soft with the refusal. */
static wp_error *g_verify(guest *g, const char *alg, const char *kind, const char *key, bytes msg,
                          bytes sig, bool *valid, char **soft) {
  *soft = NULL;
  *valid = false;
  if (!g->comp) {
    frame f = {0};
    puts_(&f, alg);
    puts_(&f, kind);
    puts_(&f, key);
    put(&f, msg.ptr, msg.len);
    put(&f, sig.ptr, sig.len);
    const uint8_t *o;
    size_t n;
    wp_error *err = core_call(g, "verify", &f, &o, &n);
    if (!err) {
      assert_true((n == 4 && !memcmp(o, "true", 4)) || (n == 5 && !memcmp(o, "false", 5)));
      *valid = n == 4;
    }
    *soft = soft_of(g, &err, "verify refused: ");
    return err;
  }
  wp_value *args[4] = {wp_value_new_enum(alg), wp_value_new_variant(kind, wp_value_new_string(key)),
                       wp_value_new_bytes(msg.ptr, msg.len), wp_value_new_bytes(sig.ptr, sig.len)};
  wp_value *r = NULL;
  wp_error *err = comp_call(g, "verify", args, 4, &r);
  if (!err && !(*soft = result_err(r))) {
    const wp_value *v = wp_value_get_payload(r);
    assert_int_equal(wp_value_get_kind(v), WP_TYPE_BOOL);
    *valid = wp_value_get_bool(v);
  }
  wp_value_free(r);
  return err;
}

/* sign with the granted key `key`: *sig (malloc'd), or *soft with the refusal. */
static wp_error *g_sign(guest *g, const char *alg, const char *key, bytes msg, bytes *sig,
                        char **soft) {
  *soft = NULL;
  *sig = (bytes){0};
  if (!g->comp) {
    frame f = {0};
    puts_(&f, alg);
    puts_(&f, key);
    put(&f, msg.ptr, msg.len);
    const uint8_t *o;
    size_t n;
    wp_error *err = core_call(g, "sign", &f, &o, &n);
    if (!err) {
      *sig = (bytes){malloc(n + 1), n};
      memcpy(sig->ptr, o, n);
    }
    *soft = soft_of(g, &err, "sign refused: ");
    return err;
  }
  wp_value *args[3] = {wp_value_new_enum(alg), wp_value_new_string(key),
                       wp_value_new_bytes(msg.ptr, msg.len)};
  wp_value *r = NULL;
  wp_error *err = comp_call(g, "sign", args, 3, &r);
  if (!err && !(*soft = result_err(r))) {
    *sig = (bytes){malloc(2048), 0};
    sig->len = value_bytes(wp_value_get_payload(r), sig->ptr, 2048);
  }
  wp_value_free(r);
  return err;
}

/* public-jwk of the granted key `key`: *jwk (malloc'd), or *soft. */
static wp_error *g_public_key(guest *g, const char *key, char **jwk, char **soft) {
  *soft = *jwk = NULL;
  if (!g->comp) {
    const uint8_t *o;
    size_t n;
    wp_error *err = wp_instance_call_bytes(g->inst, "public_key", key, strlen(key), &o, &n);
    if (!err) *jwk = strndup((const char *)o, n);
    *soft = soft_of(g, &err, "public-key refused: ");
    return err;
  }
  wp_value *args[1] = {wp_value_new_string(key)}, *r = NULL;
  wp_error *err = comp_call(g, "public-jwk", args, 1, &r);
  if (!err && !(*soft = result_err(r)))
    *jwk = strdup(wp_value_get_string(wp_value_get_payload(r), NULL));
  wp_value_free(r);
  return err;
}

static wp_error *g_random(guest *g, uint32_t n, uint8_t *out, size_t *len) {
  if (!g->comp) {
    char num[16];
    snprintf(num, sizeof num, "%u", n);
    const uint8_t *o;
    wp_error *err = wp_instance_call_bytes(g->inst, "random", num, strlen(num), &o, len);
    if (!err) memcpy(out, o, *len);
    return err;
  }
  wp_value *args[1] = {wp_value_new_u32(n)}, *r = NULL;
  wp_error *err = comp_call(g, "random-bytes", args, 1, &r);
  if (!err) *len = value_bytes(r, out, 65536);
  wp_value_free(r);
  return err;
}

static bool g_equal(guest *g, bytes a, bytes b) {
  if (!g->comp) {
    frame f = {0};
    put(&f, a.ptr, a.len);
    put(&f, b.ptr, b.len);
    const uint8_t *o;
    size_t n;
    assert_ok(core_call(g, "equal", &f, &o, &n));
    return n == 4 && !memcmp(o, "true", 4);
  }
  wp_value *args[2] = {wp_value_new_bytes(a.ptr, a.len), wp_value_new_bytes(b.ptr, b.len)};
  wp_value *r = NULL;
  assert_ok(comp_call(g, "constant-time-equal", args, 2, &r));
  assert_int_equal(wp_value_get_kind(r), WP_TYPE_BOOL);
  bool v = wp_value_get_bool(r);
  wp_value_free(r);
  return v;
}

/* The kinds the build has: the component only with WASMPLUG_COMPONENTS. */
#ifdef WP_CRYPTO_COMPONENT
#define NKINDS 3
#else
#define NKINDS 2
#endif
#define FOR_KINDS(kind) for (int kind = 0; kind < NKINDS; kind++)

/* ---- vectors --------------------------------------------------------------------------- */

/* RFC 7515 A.2 / A.3 and RFC 8037 A.4: the JWS signing inputs, signatures and keys. */
#define RFC7515_PAYLOAD                                                                          \
  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVl" \
  "fQ"
static const char RS256_INPUT[] = "eyJhbGciOiJSUzI1NiJ9." RFC7515_PAYLOAD;
static const char RS256_SIG[] =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
#define RS256_N                                                                                    \
  "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4" \
  "QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdb" \
  "BYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-D" \
  "WNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
#define RS256_JWK "{\"kty\":\"RSA\",\"n\":\"" RS256_N "\",\"e\":\"AQAB\"}"

static const char ES256_INPUT[] = "eyJhbGciOiJFUzI1NiJ9." RFC7515_PAYLOAD;
static const char ES256_SIG[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
#define ES256_JWK                                                                            \
  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"
/* y with its last bit flipped: not on the curve. */
#define ES256_JWK_OFF_CURVE                                                                  \
  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5aw\"}"

static const char ED_INPUT[] = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
static const char ED_SIG[] =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
#define ED_JWK \
  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"

/* The private keys of those vectors: RFC 8037 A.1 (Ed25519), RFC 7515 A.2
   (RSA, with its CRT members, and with "d" alone) and A.3 (P-256). */
#define ED_D "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
#define ED_PRIVATE_JWK                                             \
  "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"" ED_D "\",\"x\":" \
  "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"
#define RS256_D                                                                                    \
  "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoA" \
  "Je46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpR" \
  "LI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZF" \
  "D9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
#define RS256_CRT                                                                                \
  "\"p\":\"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9A"  \
  "B0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc\","  \
  "\"q\":\"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6u"  \
  "l7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc\","  \
  "\"dp\":\"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7"  \
  "Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0\"," \
  "\"dq\":\"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6"  \
  "N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU\"," \
  "\"qi\":\"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJ"  \
  "Q3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U\""
#define RS256_PRIVATE_JWK \
  "{\"kty\":\"RSA\",\"n\":\"" RS256_N "\",\"e\":\"AQAB\",\"d\":\"" RS256_D "\"," RS256_CRT "}"
#define RS256_D_ONLY_JWK \
  "{\"kty\":\"RSA\",\"n\":\"" RS256_N "\",\"e\":\"AQAB\",\"d\":\"" RS256_D "\"}"
#define ES256_PRIVATE_JWK                                                                    \
  "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\","                                   \
  "\"d\":\"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI\"}"

static const char GRANT_KEYLESS[] = "{\"capabilities\": {\"crypto\": {}}}";

/* ---- tests ----------------------------------------------------------------------------- */

WP_TEST(test_hash_vectors) {
  static const struct {
    const char *alg, *want;
  } v[] = {
      {"sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"sha384",
       "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358"
       "baeca134c825a7"},
      {"sha512",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836"
       "ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
  };
  FOR_KINDS(kind) {
    guest g = guest_new(kind, GRANT_KEYLESS);
    bytes abc = text("abc");
    for (size_t i = 0; i < 3; i++) {
      uint8_t out[64];
      size_t n;
      assert_ok(g_hash(&g, v[i].alg, abc, out, &n));
      assert_bytes(out, n, v[i].want);
    }
    free(abc.ptr);
    guest_free(&g);
  }
}

/* RFC 4231 section 4: test cases 1, 2, 3 and 6 (a key longer than the block). */
WP_TEST(test_hmac_rfc4231) {
  static const char TC6_DATA[] = "Test Using Larger Than Block-Size Key - Hash Key First";
  struct {
    bytes key, data;
    const char *alg, *want;
  } v[] = {
      {repeat(0x0b, 20), text("Hi There"), "sha256",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {repeat(0x0b, 20), text("Hi There"), "sha384",
       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2f"
       "a9cb6"},
      {repeat(0x0b, 20), text("Hi There"), "sha512",
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea"
       "3f4e4be9d914eeb61f1702e696c203a126854"},
      {text("Jefe"), text("what do ya want for nothing?"), "sha256",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {text("Jefe"), text("what do ya want for nothing?"), "sha384",
       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab"
       "21649"},
      {text("Jefe"), text("what do ya want for nothing?"), "sha512",
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f"
       "0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {repeat(0xaa, 20), repeat(0xdd, 50), "sha256",
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {repeat(0xaa, 20), repeat(0xdd, 50), "sha384",
       "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a"
       "34f27"},
      {repeat(0xaa, 131), text(TC6_DATA), "sha256",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  size_t nv = sizeof v / sizeof *v;
  FOR_KINDS(kind) {
    guest g = guest_new(kind, GRANT_KEYLESS);
    for (size_t i = 0; i < nv; i++) {
      uint8_t out[64];
      size_t n = 0;
      char *soft;
      assert_ok(g_hmac(&g, v[i].alg, "raw", v[i].key, v[i].data, out, &n, &soft));
      assert_null(soft);
      assert_bytes(out, n, v[i].want);
    }
    /* an empty key is refused, not a crash */
    uint8_t out[64];
    size_t n;
    char *soft;
    bytes empty = {(uint8_t *)"", 0};
    assert_ok(g_hmac(&g, "sha256", "raw", empty, v[0].data, out, &n, &soft));
    assert_non_null(soft);
    assert_non_null(strstr(soft, "the HMAC key is empty"));
    free(soft);
    guest_free(&g);
  }
  for (size_t i = 0; i < nv; i++) free(v[i].key.ptr), free(v[i].data.ptr);
}

/* Verifies through every kind; `want` 1 valid, 0 not. */
static void expect_verify(guest *g, const char *alg, const char *kind, const char *key, bytes msg,
                          bytes sig, bool want) {
  bool valid;
  char *soft;
  assert_ok(g_verify(g, alg, kind, key, msg, sig, &valid, &soft));
  if (soft) print_error("%s %s: refused: %s\n", alg, kind, soft);
  assert_null(soft);
  assert_int_equal(valid, want);
}

/* RFC 7515 A.2 (RS256), A.3 (ES256), RFC 8037 A.4 (EdDSA): valid, and false once changed. */
WP_TEST(test_jws_vectors) {
  struct {
    const char *alg, *jwk, *input, *sig;
  } v[] = {{"rs256", RS256_JWK, RS256_INPUT, RS256_SIG},
           {"es256", ES256_JWK, ES256_INPUT, ES256_SIG},
           {"eddsa", ED_JWK, ED_INPUT, ED_SIG}};
  FOR_KINDS(kind) {
    guest g = guest_new(kind, GRANT_KEYLESS);
    for (size_t i = 0; i < 3; i++) {
      bytes msg = text(v[i].input), sig = b64url(v[i].sig);
      expect_verify(&g, v[i].alg, "jwk", v[i].jwk, msg, sig, true);
      sig.ptr[sig.len / 2] ^= 0x01; /* a wrong signature */
      expect_verify(&g, v[i].alg, "jwk", v[i].jwk, msg, sig, false);
      sig.ptr[sig.len / 2] ^= 0x01;
      msg.ptr[msg.len - 1] ^= 0x01; /* a changed message */
      expect_verify(&g, v[i].alg, "jwk", v[i].jwk, msg, sig, false);
      msg.ptr[msg.len - 1] ^= 0x01;
      sig.len--; /* a truncated one */
      expect_verify(&g, v[i].alg, "jwk", v[i].jwk, msg, sig, false);
      bytes huge = repeat(0x5a, 4096); /* longer than any signature */
      expect_verify(&g, v[i].alg, "jwk", v[i].jwk, msg, huge, false);
      free(huge.ptr);
      free(msg.ptr), free(sig.ptr);
    }
    guest_free(&g);
  }
}

/* A fresh key of `type` ("RSA" 2048 bits, "EC" P-256) and its public PEM. */
static EVP_PKEY *fresh_key(const char *type, char **pem, char **private_pem) {
  EVP_PKEY *k = strcmp(type, "RSA") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
                                         : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  assert_non_null(k);
  for (int priv = 0; priv < 2; priv++) {
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(priv ? PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(bio, k),
                     1);
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = malloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(bio);
    *(priv ? private_pem : pem) = s;
  }
  return k;
}

/* Signs msg: PS256 (salt = 32, MGF1-SHA256) or ES256 (as JWS r || s). */
static bytes sign(EVP_PKEY *k, bool pss, bytes msg) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx;
  assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, k, NULL), 1);
  if (pss) {
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST), 1);
  }
  size_t n = 0;
  assert_int_equal(EVP_DigestSign(ctx, NULL, &n, msg.ptr, msg.len), 1);
  bytes sig = {malloc(n), n};
  assert_int_equal(EVP_DigestSign(ctx, sig.ptr, &sig.len, msg.ptr, msg.len), 1);
  EVP_MD_CTX_free(ctx);
  if (pss) return sig;
  const unsigned char *p = sig.ptr;
  ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig.len);
  assert_non_null(es);
  bytes raw = {malloc(64), 64};
  assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw.ptr, 32), 32);
  assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), raw.ptr + 32, 32), 32);
  ECDSA_SIG_free(es);
  free(sig.ptr);
  return raw;
}

/* PS256 and ES256 with fresh keys given as PEM (public, and private). */
WP_TEST(test_pem_fresh_keys) {
  bytes msg = text("eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ3YXNtcGx1ZyJ9");
  char *rsa_pem, *rsa_priv, *ec_pem, *ec_priv;
  EVP_PKEY *rsa = fresh_key("RSA", &rsa_pem, &rsa_priv), *ec = fresh_key("EC", &ec_pem, &ec_priv);
  bytes ps = sign(rsa, true, msg), es = sign(ec, false, msg);
  FOR_KINDS(kind) {
    guest g = guest_new(kind, GRANT_KEYLESS);
    expect_verify(&g, "ps256", "pem", rsa_pem, msg, ps, true);
    expect_verify(&g, "ps256", "pem", rsa_priv, msg, ps, true);
    expect_verify(&g, "rs256", "pem", rsa_pem, msg, ps, false); /* PSS is not PKCS#1 v1.5 */
    expect_verify(&g, "es256", "pem", ec_pem, msg, es, true);
    expect_verify(&g, "es256", "pem", ec_priv, msg, es, true);
    ps.ptr[7] ^= 0x80;
    es.ptr[40] ^= 0x80;
    expect_verify(&g, "ps256", "pem", rsa_pem, msg, ps, false);
    expect_verify(&g, "es256", "pem", ec_pem, msg, es, false);
    ps.ptr[7] ^= 0x80;
    es.ptr[40] ^= 0x80;
    guest_free(&g);
  }
  EVP_PKEY_free(rsa), EVP_PKEY_free(ec);
  free(rsa_pem), free(rsa_priv), free(ec_pem), free(ec_priv), free(ps.ptr), free(es.ptr),
      free(msg.ptr);
}

/* Refusals the plugin handles: keys that do not parse or fit. Never a crash. */
static void expect_refused(guest *g, const char *alg, const char *kind, const char *key,
                           const char *fragment) {
  bytes msg = text("m"), sig = repeat(1, 64);
  bool valid;
  char *soft;
  assert_ok(g_verify(g, alg, kind, key, msg, sig, &valid, &soft));
  if (!soft || !strstr(soft, fragment))
    print_error("%s %s '%.40s': expected a refusal with '%s', got %s\n", alg, kind, key, fragment,
                soft ? soft : "none");
  assert_non_null(soft);
  assert_non_null(strstr(soft, fragment));
  assert_false(valid);
  free(soft), free(msg.ptr), free(sig.ptr);
}

WP_TEST(test_malformed_keys) {
  char *rsa_pem, *rsa_priv;
  EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  BIO *bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, small);
  char *data;
  long n = BIO_get_mem_data(bio, &data);
  char *small_pem = strndup(data, (size_t)n);
  BIO_free(bio);
  EVP_PKEY_free(small);
  EVP_PKEY *rsa = fresh_key("RSA", &rsa_pem, &rsa_priv);
  /* a PEM cut in the middle */
  char *cut = strndup(rsa_pem, strlen(rsa_pem) / 2);
  /* an encrypted private key: refused, never a passphrase prompt */
  bio = BIO_new(BIO_s_mem());
  assert_int_equal(
      PEM_write_bio_PrivateKey(bio, rsa, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL, NULL),
      1);
  n = BIO_get_mem_data(bio, &data);
  char *encrypted = strndup(data, (size_t)n);
  BIO_free(bio);
  FOR_KINDS(kind) {
    guest g = guest_new(kind, GRANT_KEYLESS);
    expect_refused(&g, "rs256", "pem", "not a key", "not a PEM public key");
    expect_refused(&g, "rs256", "pem", cut, "not a PEM public key");
    expect_refused(&g, "rs256", "pem", "", "the PEM text is empty");
    expect_refused(&g, "rs256", "pem", encrypted, "not a PEM public key");
    expect_refused(&g, "rs256", "jwk", "{\"kty\":", "not valid JSON");
    expect_refused(&g, "rs256", "jwk", "[1]", "a JWK is a JSON object");
    expect_refused(&g, "rs256", "jwk", "{\"kty\":\"RSA\",\"n\":\"AQAB\"}", "no \"e\" string");
    expect_refused(&g, "rs256", "jwk", "{\"kty\":\"RSA\",\"n\":\"!!\",\"e\":\"AQAB\"}",
                   "\"n\" is not base64url");
    expect_refused(&g, "rs256", "jwk", "{\"kty\":\"DSA\"}", "\"kty\" \"DSA\" is not supported");
    expect_refused(&g, "es256", "jwk", ES256_JWK_OFF_CURVE, "not a point on P-256");
    expect_refused(&g, "es256", "jwk",
                   "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AQAB\",\"y\":\"AQAB\"}",
                   "must be 32 bytes");
    expect_refused(&g, "eddsa", "jwk", "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AQAB\"}",
                   "not supported (Ed25519, Ed448)");
    expect_refused(&g, "eddsa", "jwk", "{\"kty\":\"oct\",\"k\":\"AQAB\"}", "is a secret");
    /* keys that parse but do not fit the algorithm */
    expect_refused(&g, "es256", "jwk", RS256_JWK, "not an EC key on P-256");
    expect_refused(&g, "es384", "jwk", ES256_JWK, "not an EC key on P-384");
    expect_refused(&g, "rs256", "jwk", ED_JWK, "not an RSA key");
    expect_refused(&g, "eddsa", "pem", rsa_pem, "not an Ed25519 or Ed448 key");
    expect_refused(&g, "rs256", "pem", small_pem, "1024-bit RSA key");
    guest_free(&g);
  }
  EVP_PKEY_free(rsa);
  free(rsa_pem), free(rsa_priv), free(small_pem), free(cut), free(encrypted);
}

/* A temporary PEM file of the public key `pem`. */
static char *pem_file(const char *pem) {
  char *path = strdup("/tmp/wp-crypto-test-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
  close(fd);
  return path;
}

/* Named keys: used by name, from every source; the secret never comes back. */
WP_TEST(test_named_keys) {
  char *ps_pem, *ps_priv;
  EVP_PKEY *rsa = fresh_key("RSA", &ps_pem, &ps_priv);
  bytes msg = text("named");
  bytes ps = sign(rsa, true, msg);
  char *path = pem_file(ps_pem);
  char *manifest = malloc(16384);
  snprintf(manifest, 16384,
           "{\"capabilities\": {\"crypto\": {\"keys\": {"
           "\"jefe\": {\"secret_hex\": \"4a656665\"},"
           "\"tc1\": {\"secret_base64\": \"CwsLCwsLCwsLCwsLCwsLCwsLCws=\"},"
           "\"oct\": {\"jwk\": {\"kty\": \"oct\", \"k\": \"SmVmZQ\"}},"
           "\"rfc-rsa\": {\"jwk\": " RS256_JWK "},"
           "\"rfc-ec\": {\"jwk\": " ES256_JWK "},"
           "\"rfc-ed\": {\"jwk\": " ED_JWK "},"
           "\"ps-file\": {\"pem_file\": \"%s\"}}}}}",
           path);
  FOR_KINDS(kind) {
    guest g = guest_new(kind, manifest);
    bytes data = text("what do ya want for nothing?"), hi = text("Hi There");
    uint8_t out[64];
    size_t n;
    char *soft;
    const char *names[] = {"jefe", "oct"};
    for (int i = 0; i < 2; i++) {
      bytes name = text(names[i]);
      assert_ok(g_hmac(&g, "sha256", "named", name, data, out, &n, &soft));
      assert_null(soft);
      assert_bytes(out, n, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
      free(name.ptr);
    }
    bytes tc1 = text("tc1");
    assert_ok(g_hmac(&g, "sha512", "named", tc1, hi, out, &n, &soft));
    assert_null(soft);
    assert_bytes(out, n,
                 "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702"
                 "038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
    free(tc1.ptr);
    /* the signature vectors, by name */
    bytes rs_msg = text(RS256_INPUT), rs_sig = b64url(RS256_SIG);
    bytes es_msg = text(ES256_INPUT), es_sig = b64url(ES256_SIG);
    bytes ed_msg = text(ED_INPUT), ed_sig = b64url(ED_SIG);
    expect_verify(&g, "rs256", "named", "rfc-rsa", rs_msg, rs_sig, true);
    expect_verify(&g, "es256", "named", "rfc-ec", es_msg, es_sig, true);
    expect_verify(&g, "eddsa", "named", "rfc-ed", ed_msg, ed_sig, true);
    expect_verify(&g, "ps256", "named", "ps-file", msg, ps, true);
    expect_verify(&g, "rs256", "named", "rfc-rsa", es_msg, rs_sig, false);
    /* names not granted, and keys of the wrong sort, are refused by name */
    expect_refused(&g, "rs256", "named", "nope", "key 'nope' is not granted");
    expect_refused(&g, "rs256", "named", "nope", "rfc-rsa");
    expect_refused(&g, "rs256", "named", "jefe", "key 'jefe' is a secret");
    bytes rsa_name = text("rfc-rsa"), nope = text("nope");
    assert_ok(g_hmac(&g, "sha256", "named", rsa_name, data, out, &n, &soft));
    assert_non_null(soft);
    assert_non_null(strstr(soft, "key 'rfc-rsa' is a public key"));
    free(soft);
    assert_ok(g_hmac(&g, "sha256", "named", nope, data, out, &n, &soft));
    assert_non_null(strstr(soft, "key 'nope' is not granted"));
    /* no refusal carries the secret, in hex or as text */
    assert_null(strstr(soft, "4a656665"));
    assert_null(strstr(soft, "Jefe"));
    free(soft);
    free(rsa_name.ptr), free(nope.ptr);
    free(rs_msg.ptr), free(rs_sig.ptr), free(es_msg.ptr), free(es_sig.ptr), free(ed_msg.ptr),
        free(ed_sig.ptr), free(data.ptr), free(hi.ptr);
    guest_free(&g);
  }
  unlink(path);
  EVP_PKEY_free(rsa);
  free(path), free(manifest), free(ps_pem), free(ps_priv), free(ps.ptr), free(msg.ptr);
}

/* ---- signing --------------------------------------------------------------------------- */

/* Signs through the guest, expecting success. */
static bytes expect_sign(guest *g, const char *alg, const char *key, bytes msg) {
  bytes sig;
  char *soft;
  assert_ok(g_sign(g, alg, key, msg, &sig, &soft));
  if (soft) print_error("sign %s with '%s': refused: %s\n", alg, key, soft);
  assert_null(soft);
  return sig;
}

/* Signs through the guest, expecting a refusal naming `fragment`. */
static void expect_sign_refused(guest *g, const char *alg, const char *key, const char *fragment) {
  bytes msg = text("m"), sig;
  char *soft;
  assert_ok(g_sign(g, alg, key, msg, &sig, &soft));
  if (!soft || !strstr(soft, fragment))
    print_error("sign %s with '%.40s': expected a refusal with '%s', got %s\n", alg, key, fragment,
                soft ? soft : "a signature");
  assert_non_null(soft);
  assert_non_null(strstr(soft, fragment));
  assert_null(sig.ptr);
  free(soft), free(msg.ptr);
}

static char *expect_public_key(guest *g, const char *key) {
  char *jwk, *soft;
  assert_ok(g_public_key(g, key, &jwk, &soft));
  if (soft) print_error("public-jwk of '%s': refused: %s\n", key, soft);
  assert_null(soft);
  assert_null(strstr(jwk, "\"d\""));
  return jwk;
}

/* Whether libcrypto, here, finds sig a valid JWS signature of msg under k:
   es* as r || s, ps256 with a 32-byte salt and MGF1-SHA256, eddsa. */
static bool ossl_verify(EVP_PKEY *k, const char *alg, bytes msg, bytes sig) {
  bool ec = alg[0] == 'e' && alg[1] == 's';
  const char *md = alg[0] == 'e' && alg[1] == 'd' ? NULL
                   : alg[2] == '3'                ? "SHA384"
                   : alg[2] == '5'                ? "SHA512"
                                                  : "SHA256";
  unsigned char *der = NULL;
  int der_len = 0;
  if (ec) {
    size_t half = sig.len / 2;
    ECDSA_SIG *es = ECDSA_SIG_new();
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig.ptr, (int)half, NULL),
                                    BN_bin2bn(sig.ptr + half, (int)half, NULL)),
                     1);
    der_len = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx;
  assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, k, NULL), 1);
  if (alg[0] == 'p') {
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL), 1);
  }
  bool ok = ec ? EVP_DigestVerify(ctx, der, (size_t)der_len, msg.ptr, msg.len) == 1
               : EVP_DigestVerify(ctx, sig.ptr, sig.len, msg.ptr, msg.len) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return ok;
}

static const char SIGN_RFC_KEYS[] = "{\"capabilities\": {\"crypto\": {\"keys\": {"
                                    "\"rfc-ed\": {\"jwk\": " ED_PRIVATE_JWK "},"
                                    "\"rfc-rsa\": {\"jwk\": " RS256_PRIVATE_JWK "},"
                                    "\"rfc-rsa-d\": {\"jwk\": " RS256_D_ONLY_JWK "},"
                                    "\"rfc-ec\": {\"jwk\": " ES256_PRIVATE_JWK "}}}}}";

/* RFC 8037 A.4 and RFC 7515 A.2 are deterministic: the host must give the
   RFC's signature exactly. RFC 7515 A.3's key signs ES256 that its public
   JWK verifies. public-jwk gives back the RFC's public members exactly. */
WP_TEST(test_sign_rfc_vectors) {
  FOR_KINDS(kind) {
    guest g = guest_new(kind, SIGN_RFC_KEYS);
    bytes ed_msg = text(ED_INPUT), ed_want = b64url(ED_SIG);
    bytes ed = expect_sign(&g, "eddsa", "rfc-ed", ed_msg);
    assert_int_equal(ed.len, 64);
    assert_memory_equal(ed.ptr, ed_want.ptr, 64);
    bytes rs_msg = text(RS256_INPUT), rs_want = b64url(RS256_SIG);
    const char *rsa_keys[] = {"rfc-rsa", "rfc-rsa-d"};
    for (int i = 0; i < 2; i++) {
      bytes rs = expect_sign(&g, "rs256", rsa_keys[i], rs_msg);
      assert_int_equal(rs.len, 256);
      assert_memory_equal(rs.ptr, rs_want.ptr, 256);
      free(rs.ptr);
    }
    bytes es_msg = text(ES256_INPUT);
    bytes es = expect_sign(&g, "es256", "rfc-ec", es_msg);
    assert_int_equal(es.len, 64);
    expect_verify(&g, "es256", "jwk", ES256_JWK, es_msg, es, true);
    expect_verify(&g, "es256", "named", "rfc-ec", es_msg, es, true);
    es_msg.ptr[0] ^= 1; /* a tampered message */
    expect_verify(&g, "es256", "jwk", ES256_JWK, es_msg, es, false);
    const char *keys[] = {"rfc-ed", "rfc-rsa", "rfc-rsa-d", "rfc-ec"};
    const char *jwks[] = {ED_JWK, RS256_JWK, RS256_JWK, ES256_JWK};
    for (int i = 0; i < 4; i++) {
      char *jwk = expect_public_key(&g, keys[i]);
      assert_string_equal(jwk, jwks[i]);
      free(jwk);
    }
    free(ed.ptr), free(ed_msg.ptr), free(ed_want.ptr), free(rs_msg.ptr), free(rs_want.ptr),
        free(es.ptr), free(es_msg.ptr);
    guest_free(&g);
  }
}

/* A fresh key's private PEM. */
static char *private_pem(EVP_PKEY *k) {
  BIO *bio = BIO_new(BIO_s_mem());
  assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL), 1);
  char *data;
  long n = BIO_get_mem_data(bio, &data);
  char *s = strndup(data, (size_t)n);
  BIO_free(bio);
  return s;
}

/* A manifest string member: the PEM with its newlines escaped. */
static char *json_pem(const char *pem) {
  char *out = malloc(2 * strlen(pem) + 1), *o = out;
  for (const char *c = pem; *c; c++) {
    if (*c == '\n') *o++ = '\\', *o++ = 'n';
    else *o++ = *c;
  }
  *o = '\0';
  return out;
}

/* ES256 (inline PEM), ES384 (pem_file), ES512, PS256 and EdDSA on Ed448
   (inline PEM) with fresh private keys: each signature verifies by name,
   with the public JWK the host gives out, and with libcrypto here; a
   tampered message does not. */
WP_TEST(test_sign_fresh_keys) {
  EVP_PKEY *k256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  EVP_PKEY *k384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
  EVP_PKEY *k521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
  EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  EVP_PKEY *ed448 = EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
  char *p256 = private_pem(k256), *p384 = private_pem(k384), *prsa = private_pem(rsa);
  char *p521 = private_pem(k521), *p448 = private_pem(ed448);
  char *j256 = json_pem(p256), *jrsa = json_pem(prsa), *path = pem_file(p384);
  char *j521 = json_pem(p521), *j448 = json_pem(p448);
  size_t size = strlen(j256) + strlen(jrsa) + strlen(j521) + strlen(j448) + 512;
  char *manifest = malloc(size);
  snprintf(manifest, size,
           "{\"capabilities\": {\"crypto\": {\"keys\": {\"ec256\": {\"pem\": \"%s\"}, "
           "\"ec384\": {\"pem_file\": \"%s\"}, \"ec521\": {\"pem\": \"%s\"}, "
           "\"rsa\": {\"pem\": \"%s\"}, \"ed448\": {\"pem\": \"%s\"}}}}}",
           j256, path, j521, jrsa, j448);
  static const struct {
    const char *alg, *key, *kty;
    size_t len;
  } v[] = {{"es256", "ec256", "\"kty\":\"EC\",\"crv\":\"P-256\"", 64},
           {"es384", "ec384", "\"kty\":\"EC\",\"crv\":\"P-384\"", 96},
           {"es512", "ec521", "\"kty\":\"EC\",\"crv\":\"P-521\"", 132},
           {"ps256", "rsa", "\"kty\":\"RSA\"", 256},
           {"eddsa", "ed448", "\"kty\":\"OKP\",\"crv\":\"Ed448\"", 114}};
  EVP_PKEY *keys[] = {k256, k384, k521, rsa, ed448};
  FOR_KINDS(kind) {
    guest g = guest_new(kind, manifest);
    for (size_t i = 0; i < 5; i++) {
      bytes msg = text("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ3YXNtcGx1ZyJ9");
      bytes sig = expect_sign(&g, v[i].alg, v[i].key, msg);
      assert_int_equal(sig.len, v[i].len);
      char *jwk = expect_public_key(&g, v[i].key);
      if (!strstr(jwk, v[i].kty)) print_error("%s: %s\n", v[i].key, jwk);
      assert_non_null(strstr(jwk, v[i].kty));
      expect_verify(&g, v[i].alg, "named", v[i].key, msg, sig, true);
      expect_verify(&g, v[i].alg, "jwk", jwk, msg, sig, true);
      assert_true(ossl_verify(keys[i], v[i].alg, msg, sig));
      msg.ptr[msg.len - 1] ^= 1;
      expect_verify(&g, v[i].alg, "jwk", jwk, msg, sig, false);
      assert_false(ossl_verify(keys[i], v[i].alg, msg, sig));
      free(jwk), free(sig.ptr), free(msg.ptr);
    }
    /* PSS is randomized (a fresh salt): two signatures of one message differ */
    bytes msg = text("m");
    bytes a = expect_sign(&g, "ps256", "rsa", msg), b = expect_sign(&g, "ps256", "rsa", msg);
    assert_memory_not_equal(a.ptr, b.ptr, 256);
    /* a PSS signature is not PKCS#1 v1.5 */
    expect_verify(&g, "rs256", "named", "rsa", msg, a, false);
    free(a.ptr), free(b.ptr), free(msg.ptr);
    guest_free(&g);
  }
  unlink(path);
  EVP_PKEY_free(k256), EVP_PKEY_free(k384), EVP_PKEY_free(k521), EVP_PKEY_free(rsa),
      EVP_PKEY_free(ed448);
  free(p256), free(p384), free(prsa), free(p521), free(p448), free(j256), free(jrsa), free(j521),
      free(j448), free(path), free(manifest);
}

/* What sign and public-jwk refuse, each with its reason; the instance
   keeps working, and no refusal carries a secret. */
WP_TEST(test_sign_refusals) {
  EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
  char *psmall = private_pem(small), *jsmall = json_pem(psmall);
  size_t size = strlen(jsmall) + 2048;
  char *manifest = malloc(size);
  snprintf(manifest, size,
           "{\"capabilities\": {\"crypto\": {\"keys\": {"
           "\"jefe\": {\"secret_hex\": \"4a656665\"},"
           "\"rfc-rsa-pub\": {\"jwk\": " RS256_JWK "},"
           "\"rfc-ed\": {\"jwk\": " ED_PRIVATE_JWK "},"
           "\"rfc-ec\": {\"jwk\": " ES256_PRIVATE_JWK "},"
           "\"small\": {\"pem\": \"%s\"}}}}}",
           jsmall);
  char long_name[200];
  memset(long_name, 'k', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  FOR_KINDS(kind) {
    guest g = guest_new(kind, manifest);
    expect_sign_refused(&g, "eddsa", "nope", "key 'nope' is not granted");
    expect_sign_refused(&g, "eddsa", "nope", "capabilities.crypto.keys: jefe, rfc-rsa-pub, rfc-ed");
    expect_sign_refused(&g, "eddsa", long_name, "no key of that name is granted");
    expect_sign_refused(&g, "rs256", "jefe", "key 'jefe' is a secret");
    expect_sign_refused(&g, "rs256", "rfc-rsa-pub", "key 'rfc-rsa-pub' is a public key only");
    expect_sign_refused(&g, "es256", "rfc-ed", "key 'rfc-ed' is not an EC key on P-256");
    expect_sign_refused(&g, "es384", "rfc-ec", "key 'rfc-ec' is not an EC key on P-384");
    expect_sign_refused(&g, "rs256", "rfc-ec", "key 'rfc-ec' is not an RSA key");
    expect_sign_refused(&g, "eddsa", "small", "key 'small' is not an Ed25519 or Ed448 key");
    expect_sign_refused(&g, "ps256", "small", "key 'small' is a 1024-bit RSA key");
    char *jwk, *soft;
    assert_ok(g_public_key(&g, "jefe", &jwk, &soft));
    assert_null(jwk);
    assert_non_null(soft);
    assert_non_null(strstr(soft, "key 'jefe' is a secret"));
    assert_null(strstr(soft, "4a656665"));
    free(soft);
    assert_ok(g_public_key(&g, "nope", &jwk, &soft));
    assert_null(jwk);
    assert_non_null(soft);
    assert_non_null(strstr(soft, "key 'nope' is not granted"));
    free(soft);
    /* a public key's public half is fine */
    jwk = expect_public_key(&g, "rfc-rsa-pub");
    assert_string_equal(jwk, RS256_JWK);
    free(jwk);
    /* and the instance still signs */
    bytes msg = text(ED_INPUT), want = b64url(ED_SIG);
    bytes sig = expect_sign(&g, "eddsa", "rfc-ed", msg);
    assert_int_equal(sig.len, want.len);
    assert_memory_equal(sig.ptr, want.ptr, want.len);
    free(sig.ptr), free(msg.ptr), free(want.ptr);
    guest_free(&g);
  }
  EVP_PKEY_free(small);
  free(psmall), free(jsmall), free(manifest);
}

/* Over the message limit, sign fails the call (the plugin's bug). */
WP_TEST(test_sign_limit) {
  guest g = guest_new(
      0, "{\"capabilities\": {\"crypto\": {\"keys\": {\"ed\": {\"jwk\": " ED_PRIVATE_JWK "}}}}}");
  bytes big = repeat('a', (4u << 20) + 1), sig;
  char *soft;
  assert_error(g_sign(&g, "eddsa", "ed", big, &sig, &soft), WP_ERR_HOST,
               "wasmplug.crypto_sign: the message is 4194305 bytes, over the limit of 4194304");
  big.len--;
  assert_ok(g_sign(&g, "eddsa", "ed", big, &sig, &soft));
  assert_null(soft);
  assert_int_equal(sig.len, 64);
  free(sig.ptr), free(big.ptr);
  guest_free(&g);
}

/* Four threads verify with the same named key, each on its own instance of
   one plugin: the host's parsed key is shared and must stay correct. */
typedef struct {
  wp_plugin *p;
  int valid;
} worker_arg;

static void *worker(void *arg) {
  worker_arg *w = arg;
  guest g = {.p = w->p};
  if (wp_instance_new(w->p, &g.inst)) return NULL;
  bytes msg = text(ES256_INPUT), sig = b64url(ES256_SIG);
  for (int i = 0; i < 50; i++) {
    bool valid;
    char *soft;
    sig.ptr[0] ^= (uint8_t)(i & 1); /* odd rounds: a wrong signature */
    wp_error *err = g_verify(&g, "es256", "named", "ec", msg, sig, &valid, &soft);
    sig.ptr[0] ^= (uint8_t)(i & 1);
    if (!err && !soft && valid == !(i & 1)) w->valid++;
    wp_error_free(err);
    free(soft);
  }
  free(msg.ptr), free(sig.ptr);
  wp_instance_free(g.inst);
  return NULL;
}

WP_TEST(test_threads) {
  guest g = guest_new(0, "{\"capabilities\": {\"crypto\": {\"keys\": {\"ec\": {\"jwk\": " ES256_JWK
                         "}}}}}");
  pthread_t t[4];
  worker_arg w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (worker_arg){.p = g.p};
    assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].valid, 50);
  }
  guest_free(&g);
}

/* Without the grant every function fails the call, naming capabilities.crypto. */
WP_TEST(test_not_granted) {
  FOR_KINDS(kind) {
    const char *manifests[] = {NULL, "{\"capabilities\": {}}"};
    for (int m = 0; m < 2; m++) {
      guest g = guest_new(kind, manifests[m]);
      uint8_t out[64];
      size_t n;
      char *soft;
      bytes d = text("x");
      wp_error *err = g_hash(&g, "sha256", d, out, &n);
      assert_non_null(err);
      if (!strstr(wp_error_get_message(err), "capabilities.crypto"))
        print_error("%s\n", wp_error_get_message(err));
      assert_error(err, WP_ERR_HOST, "crypto is not granted to this plugin");
      assert_error(g_hmac(&g, "sha256", "raw", d, d, out, &n, &soft), WP_ERR_HOST,
                   "capabilities.crypto");
      assert_error(g_random(&g, 4, out, &n), WP_ERR_HOST, "capabilities.crypto");
      bool valid;
      assert_error(g_verify(&g, "eddsa", "jwk", ED_JWK, d, d, &valid, &soft), WP_ERR_HOST,
                   "capabilities.crypto");
      bytes sig;
      assert_error(g_sign(&g, "eddsa", "k", d, &sig, &soft), WP_ERR_HOST,
                   "crypto is not granted to this plugin");
      assert_error(g_sign(&g, "eddsa", "k", d, &sig, &soft), WP_ERR_HOST, "capabilities.crypto");
      char *jwk;
      assert_error(g_public_key(&g, "k", &jwk, &soft), WP_ERR_HOST, "capabilities.crypto");
      free(d.ptr);
      guest_free(&g);
    }
  }
}

WP_TEST(test_random_and_equal) {
  FOR_KINDS(kind) {
    guest g = guest_new(kind, GRANT_KEYLESS);
    uint8_t *a = malloc(65536), *b = malloc(65536);
    size_t na, nb;
    assert_ok(g_random(&g, 32, a, &na));
    assert_ok(g_random(&g, 32, b, &nb));
    assert_int_equal(na, 32);
    assert_int_equal(nb, 32);
    assert_memory_not_equal(a, b, 32);
    assert_ok(g_random(&g, 0, a, &na));
    assert_int_equal(na, 0);
    assert_ok(g_random(&g, 65536, a, &na));
    assert_int_equal(na, 65536);
    assert_error(g_random(&g, 65537, a, &na), WP_ERR_HOST, "over the limit of 65536");
    /* the instance still works after a refused call (a component after a reset) */
    assert_ok(g_random(&g, 16, a, &na));
    assert_int_equal(na, 16);
    bytes x = text("mac-one"), y = text("mac-one"), z = text("mac-onf"), w = text("mac-on");
    assert_true(g_equal(&g, x, y));
    assert_false(g_equal(&g, x, z));
    assert_false(g_equal(&g, x, w));
    bytes e = {(uint8_t *)"", 0};
    assert_true(g_equal(&g, e, e));
    free(x.ptr), free(y.ptr), free(z.ptr), free(w.ptr), free(a), free(b);
    guest_free(&g);
  }
}

/* Oversized inputs fail the call (the plugin's bug), and the next call works. */
WP_TEST(test_limits) {
  guest g = guest_new(0, GRANT_KEYLESS);
  bytes big = repeat('a', (4u << 20) + 1);
  uint8_t out[64];
  size_t n;
  assert_error(g_hash(&g, "sha256", big, out, &n), WP_ERR_HOST, "over the limit of 4194304");
  big.len--;
  assert_ok(g_hash(&g, "sha256", big, out, &n));
  assert_int_equal(n, 32);
  free(big.ptr);
  /* a malformed core input is the plugin's ABI error */
  const uint8_t *o;
  uint8_t junk[3] = {9, 0, 0};
  assert_error(wp_instance_call_bytes(g.inst, "hash", junk, 3, &o, &n), WP_ERR_TRAP, "");
  guest_free(&g);
}

/* A core plugin that breaks the framing: each call fails with WP_ERR_ABI
   naming what is wrong, and the instance serves the next call. */
static const char BAD_FRAMES[] =
    "(module\n"
    "  (import \"wasmplug\" \"crypto_hash\" (func $hash (param i32 i32 i32)))\n"
    "  (import \"wasmplug\" \"crypto_verify\" (func $verify (param i32 i32 i32)))\n"
    "  (import \"wasmplug\" \"crypto_sign\" (func $sign (param i32 i32 i32)))\n"
    "  (import \"wasmplug\" \"crypto_public_jwk\" (func $public_key (param i32 i32 i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $top (mut i32) (i32.const 4096))\n"
    "  (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)\n"
    "    (local $p i32) (local.set $p (global.get $top))\n"
    "    (global.set $top (i32.add (global.get $top) (i32.add (local.get 3) (i32.const 8))))\n"
    "    (local.get $p))\n"
    "  (data (i32.const 16) \"\\06\\00\\00\\00sha256\\64\\00\\00\\00ab\")\n"
    "  (data (i32.const 64) \"\\03\\00\\00\\00md5\\01\\00\\00\\00x\")\n"
    "  (data (i32.const 128) \"\\06\\00\\00\\00sha256\\00\\00\\00\\00\\ff\")\n"
    "  (data (i32.const 192) \"\\05\\00\\00\\00es256\\03\\00\\00\\00pgp\")\n"
    "  (data (i32.const 256) \"\\06\\00\\00\\00sha256\\01\\00\\00\\00x\")\n"
    "  (data (i32.const 320) \"\\05\\00\\00\\00hs256\\01\\00\\00\\00k\\00\\00\\00\\00\")\n"
    "  (data (i32.const 352) \"\\01\\00\\00\\00kX\")\n"
    "  (func (export \"truncated\") (call $hash (i32.const 16) (i32.const 16) (i32.const 1024)))\n"
    "  (func (export \"unknown_alg\") (call $hash (i32.const 64) (i32.const 12) (i32.const 1024)))\n"
    "  (func (export \"trailing\") (call $hash (i32.const 128) (i32.const 15) (i32.const 1024)))\n"
    "  (func (export \"bad_kind\") (call $verify (i32.const 192) (i32.const 16) (i32.const 1024)))\n"
    "  (func (export \"sign_alg\") (call $sign (i32.const 320) (i32.const 18) (i32.const 1024)))\n"
    "  (func (export \"jwk_extra\") (call $public_key (i32.const 352) (i32.const 6) (i32.const "
    "1024)))\n"
    "  (func (export \"good\") (result i32) (call $hash (i32.const 256) (i32.const 15) (i32.const 1024))\n"
    "    (i32.load (i32.const 1028))))\n";

WP_TEST(test_bad_frames) {
  wp_engine *e = test_engine();
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(GRANT_KEYLESS, strlen(GRANT_KEYLESS), NULL, &m));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load_bytes(e, "bad-frames.wat", BAD_FRAMES, strlen(BAD_FRAMES), m, &p));
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  assert_error(wp_instance_call(inst, "truncated", NULL, 0, NULL, 0), WP_ERR_ABI,
               "the data is 100 bytes but only 2 follow");
  assert_error(wp_instance_call(inst, "unknown_alg", NULL, 0, NULL, 0), WP_ERR_ABI,
               "unknown hash algorithm 'md5' (sha256, sha384, sha512)");
  assert_error(wp_instance_call(inst, "trailing", NULL, 0, NULL, 0), WP_ERR_ABI,
               "1 bytes follow the last field");
  assert_error(wp_instance_call(inst, "bad_kind", NULL, 0, NULL, 0), WP_ERR_ABI,
               "the key kind must be pem, jwk or named");
  assert_error(wp_instance_call(inst, "sign_alg", NULL, 0, NULL, 0), WP_ERR_ABI,
               "wasmplug.crypto_sign: unknown algorithm 'hs256' (rs256, ");
  assert_error(wp_instance_call(inst, "jwk_extra", NULL, 0, NULL, 0), WP_ERR_ABI,
               "1 bytes follow the last field");
  /* a well-formed call on the same instance: OK, one 32-byte field (1 + 4 + 32 bytes) */
  wp_val r;
  assert_ok(wp_instance_call(inst, "good", NULL, 0, &r, 1));
  assert_int_equal(r.of.i32, 37);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

/* The section is checked when the plugin loads: a clear error naming the field. */
WP_TEST(test_manifest_errors) {
  static const struct {
    const char *section, *fragment;
    wp_error_kind kind;
  } v[] = {
      {"[]", "capabilities.crypto: must be an object", WP_ERR_BAD_INPUT},
      {"{\"key\": {}}", "capabilities.crypto: unknown field 'key'", WP_ERR_BAD_INPUT},
      {"{\"keys\": []}", "capabilities.crypto.keys: must be an object", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"a b\": {\"secret_hex\": \"00\"}}}", "'a b' is not a key name",
       WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {}}}", "capabilities.crypto.keys.k: is empty", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"pem\": \"x\", \"jwk\": {}}}}", "has both \"pem\" and \"jwk\"",
       WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"pen\": \"x\"}}}", "capabilities.crypto.keys.k: unknown field 'pen'",
       WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"pem\": \"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC "
       "KEY-----\\n\"}}}",
       "capabilities.crypto.keys.k.pem: not a PEM public key", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"pem_file\": \"key.pem\"}}}",
       "capabilities.crypto.keys.k.pem_file: 'key.pem' is not an absolute path", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"pem_file\": \"/nonexistent/key.pem\"}}}",
       "capabilities.crypto.keys.k.pem_file: cannot open '/nonexistent/key.pem'", WP_ERR_IO},
      {"{\"keys\": {\"k\": {\"jwk\": \"{}\"}}}",
       "capabilities.crypto.keys.k.jwk: must be a JWK object", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"jwk\": " ES256_JWK_OFF_CURVE "}}}",
       "capabilities.crypto.keys.k.jwk: the EC JWK is not a point on P-256", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"secret_hex\": \"abc\"}}}",
       "capabilities.crypto.keys.k.secret_hex: not hex", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"secret_hex\": \"\"}}}",
       "capabilities.crypto.keys.k.secret_hex: the secret is empty", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"secret_base64\": \"a$==\"}}}",
       "capabilities.crypto.keys.k.secret_base64: not base64", WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"secret_hex\": 7}}}",
       "capabilities.crypto.keys.k.secret_hex: must be a string", WP_ERR_BAD_INPUT},
      /* private JWKs whose halves do not match */
      {"{\"keys\": {\"k\": {\"jwk\": {\"kty\": \"OKP\", \"crv\": \"Ed25519\", \"d\": \"" ED_D
       "\", \"x\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}}}}",
       "capabilities.crypto.keys.k.jwk: the Ed25519 JWK's \"d\" does not match its \"x\"",
       WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"jwk\": {\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": "
       "\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\", \"y\": "
       "\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\", \"d\": \"" ED_D "\"}}}}",
       "capabilities.crypto.keys.k.jwk: the EC JWK's \"d\" does not match its \"x\" and \"y\"",
       WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"jwk\": {\"kty\": \"RSA\", \"n\": \"" RS256_N
       "\", \"e\": \"AQAB\", \"d\": \"AQAB\"}}}}",
       "capabilities.crypto.keys.k.jwk: the RSA JWK's \"d\" does not match its \"n\" and \"e\"",
       WP_ERR_BAD_INPUT},
      {"{\"keys\": {\"k\": {\"jwk\": {\"kty\": \"RSA\", \"n\": \"" RS256_N
       "\", \"e\": \"AQAB\", \"d\": \"AQAB\", \"p\": \"AQAB\"}}}}",
       "all or none of p, q, dp, dq, qi", WP_ERR_BAD_INPUT},
  };
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    char manifest[1024];
    snprintf(manifest, sizeof manifest, "{\"capabilities\": {\"crypto\": %s}}", v[i].section);
    guest g;
    wp_error *err = guest_try(0, manifest, &g);
    if (err && !strstr(wp_error_get_message(err), "plugin '"))
      print_error("no plugin name in: %s\n", wp_error_get_message(err));
    assert_error(err, v[i].kind, v[i].fragment);
    guest_free(&g);
  }
}

int main(void) {
  wp_test_save_wasm_signals();
  if (!mkdtemp(cache_dir)) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_vectors),     cmocka_unit_test(test_hmac_rfc4231),
      cmocka_unit_test(test_jws_vectors),      cmocka_unit_test(test_pem_fresh_keys),
      cmocka_unit_test(test_malformed_keys),   cmocka_unit_test(test_named_keys),
      cmocka_unit_test(test_sign_rfc_vectors), cmocka_unit_test(test_sign_fresh_keys),
      cmocka_unit_test(test_sign_refusals),    cmocka_unit_test(test_sign_limit),
      cmocka_unit_test(test_threads),          cmocka_unit_test(test_not_granted),
      cmocka_unit_test(test_random_and_equal), cmocka_unit_test(test_limits),
      cmocka_unit_test(test_bad_frames),       cmocka_unit_test(test_manifest_errors),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  char rm[128];
  snprintf(rm, sizeof rm, "rm -rf %s", cache_dir);
  if (system(rm) != 0) rc = rc ? rc : 1;
  return rc;
}
