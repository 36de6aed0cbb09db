/*
 * test_pact.c - the Pact plugin driver example (examples/pact) end to end:
 * the C driver loads the Python JWT content matcher, keeps its catalogue,
 * has it configure an interaction (the plugin signs through the host's
 * crypto with a key granted by name) and compares provider tokens made with
 * OpenSSL: matching, mismatching claims, bad signature, expired, not valid
 * yet, alg confusion, not a JWT, wrong content type.
 */
#include <time.h>

#include <openssl/evp.h>

#include "helpers.h"
#include "pact_driver.h"
#include "provider.h"

#define PLUGIN WP_PLUGINS "/pact-jwt-py.wasm"
#define ISS "\"iss\":\"https://issuer.example\",\"aud\":\"orders\""

typedef struct pact_fixture {
  wp_engine *engine;
  EVP_PKEY *key, *rogue;
  pact_driver *driver;
  pact_interaction in; /* configured for alice, EdDSA */
} pact_fixture;

static pact_fixture fx;

/* A manifest granting `key` as "pact-jwt" (key NULL: no crypto grant). */
static wp_manifest *manifest_for(EVP_PKEY *key) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 20000);
  if (!key) return m;
  char *section = provider_crypto_grant(key, "pact-jwt");
  assert_non_null(section);
  assert_ok(wp_manifest_set_capability(m, "crypto", section));
  free(section);
  return m;
}

static int setup(void **state) {
  (void)state;
  assert_ok(wp_engine_new(NULL, &fx.engine));
  fx.key = provider_new_key();
  fx.rogue = provider_new_key();
  assert_non_null(fx.key);
  assert_non_null(fx.rogue);
  fx.driver = pact_driver_new(fx.engine);
  wp_manifest *m = manifest_for(fx.key);
  assert_ok(pact_driver_load(fx.driver, "jwt", PLUGIN, m));
  wp_manifest_free(m);
  assert_ok(pact_driver_configure(fx.driver, "application/jwt",
                                  "{\"algorithm\": \"EdDSA\", \"signing-key\": \"pact-jwt\", "
                                  "\"token\": {" ISS ", \"sub\": \"alice\"}}",
                                  &fx.in));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  pact_interaction_clear(&fx.in);
  pact_driver_free(fx.driver);
  EVP_PKEY_free(fx.key);
  EVP_PKEY_free(fx.rogue);
  wp_engine_free(fx.engine);
  return 0;
}

/* Compares a provider token of `claims` (signed by `key`, header `header`). */
static void compare(EVP_PKEY *key, const char *header, const char *claims, bool allow_unexpected,
                    pact_comparison *out) {
  char *tok = provider_token(key, header, claims);
  assert_non_null(tok);
  assert_ok(pact_driver_compare(fx.driver, &fx.in, "application/jwt", tok, strlen(tok),
                                allow_unexpected, out));
  free(tok);
}

/* The mismatch at `path`, or a failed test. */
static const pact_mismatch *mismatch_at(const pact_comparison *c, const char *path) {
  assert_int_equal(c->outcome, PACT_MISMATCHES);
  for (size_t i = 0; i < c->nmismatches; i++)
    if (strcmp(c->mismatches[i].path, path) == 0) return &c->mismatches[i];
  print_error("no mismatch at %s among %zu\n", path, c->nmismatches);
  fail();
  return NULL;
}

static char *claims_exp(char *buf, const char *extra, long exp_delta) {
  sprintf(buf, "{" ISS ",%s,\"exp\":%ld}", extra, (long)time(NULL) + exp_delta);
  return buf;
}

static void test_catalogue(void **state) {
  (void)state;
  size_t n;
  const pact_entry *e = pact_driver_catalogue(fx.driver, &n);
  assert_int_equal(n, 2);
  assert_string_equal(e[0].key, "plugin/jwt/content-generator/jwt");
  assert_string_equal(e[1].key, "plugin/jwt/content-matcher/jwt");
  const pact_entry *m = pact_driver_entry(fx.driver, "plugin/jwt/content-matcher/jwt");
  assert_ptr_equal(m, &e[1]);
  assert_string_equal(pact_entry_value(m, "content-types"), "application/jwt;application/jwt+json");
  assert_null(pact_driver_entry(fx.driver, "plugin/jwt/transport/jwt"));
  assert_string_equal(pact_driver_matcher_for(fx.driver, "application/jwt+json; charset=utf-8"),
                      "jwt");
  assert_null(pact_driver_matcher_for(fx.driver, "application/json"));
  assert_null(pact_driver_matcher_for(fx.driver, "application/jw"));
}

static void test_load_errors(void **state) {
  (void)state;
  wp_manifest *m = manifest_for(fx.key);
  assert_error(pact_driver_load(fx.driver, "jwt", PLUGIN, m), WP_ERR_BAD_INPUT, "already loaded");
  assert_error(pact_driver_load(fx.driver, "Bad/Name", PLUGIN, m), WP_ERR_BAD_INPUT, "[a-z0-9_-]");
  assert_error(pact_driver_load(fx.driver, "none", WP_PLUGINS "/no-such.wasm", m), WP_ERR_NOT_FOUND,
               "no-such.wasm");
  wp_manifest_free(m);
  size_t n;
  pact_driver_catalogue(fx.driver, &n);
  assert_int_equal(n, 2); /* nothing half-added */
}

/* The expected token: signed by the granted key (checked here with OpenSSL),
   its public half published as a JWK without private members. */
static void test_configured_token(void **state) {
  (void)state;
  assert_string_equal(fx.in.plugin, "jwt");
  assert_string_equal(fx.in.content_type, "application/jwt");
  const char *dot1 = strchr(fx.in.body, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  assert_non_null(dot2);
  assert_null(strchr(dot2 + 1, '.'));
  unsigned char sig[80];
  char b64[128];
  size_t slen = strlen(dot2 + 1);
  assert_true(slen == 86); /* 64 bytes, base64url */
  for (size_t i = 0; i < slen; i++)
    b64[i] = dot2[1 + i] == '-' ? '+' : dot2[1 + i] == '_' ? '/' : dot2[1 + i];
  strcpy(b64 + slen, "==");
  assert_int_equal(EVP_DecodeBlock(sig, (unsigned char *)b64, (int)slen + 2), 66);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, fx.key), 1);
  assert_int_equal(EVP_DigestVerify(ctx, sig, 64, (const unsigned char *)fx.in.body,
                                    (size_t)(dot2 - fx.in.body)),
                   1);
  EVP_MD_CTX_free(ctx);
  assert_non_null(strstr(fx.in.plugin_configuration, "\"algorithm\":\"EdDSA\""));
  assert_non_null(strstr(fx.in.plugin_configuration, "\"kty\":\"OKP\""));
  assert_non_null(strstr(fx.in.plugin_configuration, "\"crv\":\"Ed25519\""));
  assert_null(strstr(fx.in.plugin_configuration, "\"d\""));
}

static void test_matching(void **state) {
  (void)state;
  char claims[512];
  pact_comparison c;
  compare(fx.key, PROVIDER_HEADER, claims_exp(claims, "\"sub\":\"alice\"", 600), false, &c);
  assert_int_equal(c.outcome, PACT_MATCHED);
  assert_int_equal(c.nmismatches, 0);
  pact_comparison_clear(&c);
  /* Volatile claims (iat, jti, nbf in the past) never count. */
  compare(fx.key, PROVIDER_HEADER,
          claims_exp(claims, "\"sub\":\"alice\",\"iat\":1,\"jti\":\"x1\",\"nbf\":2", 600), false,
          &c);
  assert_int_equal(c.outcome, PACT_MATCHED);
  pact_comparison_clear(&c);
}

static void test_mismatching(void **state) {
  (void)state;
  char claims[512];
  pact_comparison c;
  compare(fx.key, PROVIDER_HEADER,
          claims_exp(claims, "\"sub\":\"mallory\",\"role\":\"admin\"", 600), false, &c);
  assert_int_equal(c.nmismatches, 2);
  const pact_mismatch *m = mismatch_at(&c, "$.sub");
  assert_string_equal(m->expected, "\"alice\"");
  assert_string_equal(m->actual, "\"mallory\"");
  assert_non_null(strstr(m->message, "Expected \"alice\" but got \"mallory\""));
  m = mismatch_at(&c, "$.role");
  assert_null(m->expected);
  assert_string_equal(m->actual, "\"admin\"");
  pact_comparison_clear(&c);
  /* Unexpected claims allowed: only the sub differs. */
  compare(fx.key, PROVIDER_HEADER,
          claims_exp(claims, "\"sub\":\"mallory\",\"role\":\"admin\"", 600), true, &c);
  assert_int_equal(c.nmismatches, 1);
  mismatch_at(&c, "$.sub");
  pact_comparison_clear(&c);
  /* A missing claim. */
  sprintf(claims, "{\"iss\":\"https://issuer.example\",\"sub\":\"alice\",\"exp\":%ld}",
          (long)time(NULL) + 600);
  compare(fx.key, PROVIDER_HEADER, claims, false, &c);
  assert_int_equal(c.nmismatches, 1);
  assert_non_null(strstr(mismatch_at(&c, "$.aud")->message, "no value"));
  pact_comparison_clear(&c);
}

static void test_bad_signature(void **state) {
  (void)state;
  char claims[512];
  pact_comparison c;
  compare(fx.rogue, PROVIDER_HEADER, claims_exp(claims, "\"sub\":\"alice\"", 600), false, &c);
  assert_int_equal(c.nmismatches, 1);
  assert_non_null(strstr(mismatch_at(&c, "$")->message, "signature is not valid"));
  pact_comparison_clear(&c);
  /* A signature of the wrong length: the host's error becomes the mismatch. */
  char *tok = provider_token(fx.key, PROVIDER_HEADER, claims);
  strcat(tok, "AAAA");
  assert_ok(pact_driver_compare(fx.driver, &fx.in, "application/jwt", tok, strlen(tok), false, &c));
  free(tok);
  assert_int_equal(c.nmismatches, 1);
  assert_non_null(strstr(mismatch_at(&c, "$")->message, "signature is not valid"));
  pact_comparison_clear(&c);
}

static void test_expired_and_not_yet(void **state) {
  (void)state;
  char claims[512];
  pact_comparison c;
  compare(fx.key, PROVIDER_HEADER, claims_exp(claims, "\"sub\":\"alice\"", -60), false, &c);
  assert_int_equal(c.nmismatches, 1);
  assert_non_null(strstr(mismatch_at(&c, "$.exp")->message, "has expired"));
  pact_comparison_clear(&c);
  sprintf(claims, "{" ISS ",\"sub\":\"alice\",\"exp\":%ld,\"nbf\":%ld}", (long)time(NULL) + 600,
          (long)time(NULL) + 300);
  compare(fx.key, PROVIDER_HEADER, claims, false, &c);
  assert_int_equal(c.nmismatches, 1);
  assert_non_null(strstr(mismatch_at(&c, "$.nbf")->message, "not valid yet"));
  pact_comparison_clear(&c);
  sprintf(claims, "{" ISS ",\"sub\":\"alice\",\"exp\":\"tomorrow\"}");
  compare(fx.key, PROVIDER_HEADER, claims, false, &c);
  assert_non_null(strstr(mismatch_at(&c, "$.exp")->message, "not a number"));
  pact_comparison_clear(&c);
}

/* A token that names another algorithm is never verified with it. */
static void test_alg_confusion(void **state) {
  (void)state;
  char claims[512];
  pact_comparison c;
  compare(NULL, "{\"alg\":\"none\",\"typ\":\"JWT\"}", claims_exp(claims, "\"sub\":\"alice\"", 600),
          false, &c);
  const pact_mismatch *m = mismatch_at(&c, "$.header.alg");
  assert_string_equal(m->expected, "\"EdDSA\"");
  assert_string_equal(m->actual, "\"none\"");
  pact_comparison_clear(&c);
}

static void test_not_a_jwt_and_type_mismatch(void **state) {
  (void)state;
  pact_comparison c;
  static const char *const bodies[] = {"hello", "a.b", "!!.??.##", "e30.e30.e30.e30", ""};
  for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
    assert_ok(pact_driver_compare(fx.driver, &fx.in, "application/jwt", bodies[i],
                                  strlen(bodies[i]), false, &c));
    assert_int_equal(c.nmismatches, 1);
    assert_non_null(strstr(mismatch_at(&c, "$")->message, "not a JWT"));
    pact_comparison_clear(&c);
  }
  assert_ok(pact_driver_compare(fx.driver, &fx.in, "application/json", "{}", 2, false, &c));
  assert_int_equal(c.outcome, PACT_TYPE_MISMATCH);
  assert_non_null(strstr(c.type_mismatch, "application/json"));
  pact_comparison_clear(&c);
}

static void test_configure_errors(void **state) {
  (void)state;
  pact_interaction in;
  assert_error(pact_driver_configure(fx.driver, "application/json", "{}", &in), WP_ERR_NOT_FOUND,
               "no plugin in the catalogue matches 'application/json'");
  assert_error(pact_driver_configure(fx.driver, "application/jwt", "{not json", &in), WP_ERR_PLUGIN,
               "not JSON");
  assert_error(pact_driver_configure(fx.driver, "application/jwt",
                                     "{\"algorithm\": \"HS1\", \"signing-key\": \"pact-jwt\", "
                                     "\"token\": {}}",
                                     &in),
               WP_ERR_PLUGIN, "algorithm 'HS1' is not supported");
  /* A key the manifest does not grant: the host's refusal names it. */
  assert_error(pact_driver_configure(fx.driver, "application/jwt",
                                     "{\"signing-key\": \"stolen\", \"token\": {}}", &in),
               WP_ERR_PLUGIN, "stolen");
  /* The granted key is Ed25519: ES256 does not fit it. */
  assert_error(pact_driver_configure(fx.driver, "application/jwt",
                                     "{\"algorithm\": \"ES256\", \"signing-key\": \"pact-jwt\", "
                                     "\"token\": {}}",
                                     &in),
               WP_ERR_PLUGIN, "signing with key 'pact-jwt'");
  /* The plugin still works after its refusals. */
  char claims[512];
  pact_comparison c;
  compare(fx.key, PROVIDER_HEADER, claims_exp(claims, "\"sub\":\"alice\"", 600), false, &c);
  assert_int_equal(c.outcome, PACT_MATCHED);
  pact_comparison_clear(&c);
}

/* Without the crypto grant the plugin cannot sign, and the error says why. */
static void test_crypto_not_granted(void **state) {
  (void)state;
  pact_driver *d = pact_driver_new(fx.engine);
  wp_manifest *m = manifest_for(NULL);
  assert_ok(pact_driver_load(d, "jwt", PLUGIN, m));
  wp_manifest_free(m);
  pact_interaction in;
  wp_error *err = pact_driver_configure(
      d, "application/jwt", "{\"signing-key\": \"pact-jwt\", \"token\": {\"sub\": \"a\"}}", &in);
  assert_non_null(err);
  assert_non_null(strstr(wp_error_get_message(err), "capabilities.crypto"));
  wp_error_free(err);
  pact_driver_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_catalogue),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_configured_token),
      cmocka_unit_test(test_matching),
      cmocka_unit_test(test_mismatching),
      cmocka_unit_test(test_bad_signature),
      cmocka_unit_test(test_expired_and_not_yet),
      cmocka_unit_test(test_alg_confusion),
      cmocka_unit_test(test_not_a_jwt_and_type_mismatch),
      cmocka_unit_test(test_configure_errors),
      cmocka_unit_test(test_crypto_not_granted),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
