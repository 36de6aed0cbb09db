/*
 * main.c - pact-jwt-driver: the Pact plugin driver example, end to end.
 *
 *   pact-jwt-driver PLUGIN.wasm
 *
 * Loads the JWT content-matcher plugin (examples/pact/python) with a signing
 * key granted by name, prints the catalogue its init returned, configures a
 * consumer interaction (the plugin signs the expected token through the
 * host's crypto), then verifies four tokens a provider made with OpenSSL:
 * one that matches, one with other claims, one signed by another key and
 * one that has expired. Exits 0 when each comparison gives the outcome it
 * should.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pact_driver.h"
#include "provider.h"

static void print_log(void *user_data, wp_log_level level, const char *plugin, const char *msg,
                      size_t len) {
  (void)user_data;
  fprintf(stderr, "  [%s] %s: %.*s\n", wp_log_level_name(level), plugin, (int)len, msg);
}

static int report(wp_error *err) {
  fprintf(stderr, "error (%s): %s\n", wp_error_kind_name(wp_error_get_kind(err)),
          wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}

/* A manifest granting crypto with `key` as the key "pact-jwt". */
static wp_error *jwt_manifest(EVP_PKEY *key, wp_manifest **out) {
  char *section = provider_crypto_grant(key, "pact-jwt");
  if (!section) return wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 10000);
  wp_error *err = wp_manifest_set_capability(m, "crypto", section);
  free(section);
  if (err) wp_manifest_free(m);
  else *out = m;
  return err;
}

/* Compares `token` and prints the outcome; returns whether it is `want`. */
static bool verify(pact_driver *d, const pact_interaction *in, const char *label, const char *token,
                   pact_outcome want) {
  pact_comparison c;
  wp_error *err = pact_driver_compare(d, in, "application/jwt", token, strlen(token), false, &c);
  if (err) return report(err), false;
  printf("%-12s %s\n", label, c.outcome == PACT_MATCHED ? "matched" : "mismatched");
  for (size_t i = 0; i < c.nmismatches; i++)
    printf("             %s: %s\n", c.mismatches[i].path, c.mismatches[i].message);
  bool ok = c.outcome == want;
  pact_comparison_clear(&c);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PLUGIN.wasm\n", argv[0]);
    return 2;
  }
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_log(cfg, print_log, NULL);
  wp_engine *engine;
  wp_error *err = wp_engine_new(cfg, &engine);
  wp_engine_config_free(cfg);
  if (err) return report(err);

  /* The pact's signing key: the plugin signs with it by name only. */
  EVP_PKEY *key = provider_new_key(), *rogue = provider_new_key();
  wp_manifest *m = NULL;
  pact_driver *d = pact_driver_new(engine);
  pact_interaction in = {0};
  int rc = 1;
  err = key && rogue && d ? jwt_manifest(key, &m) : wp_error_new(WP_ERR_NO_MEMORY, "setup");
  if (!err) err = pact_driver_load(d, "jwt", argv[1], m);
  if (err) goto done;

  size_t n;
  const pact_entry *entries = pact_driver_catalogue(d, &n);
  printf("catalogue:\n");
  for (size_t i = 0; i < n; i++)
    printf("  %s  content-types=%s\n", entries[i].key,
           pact_entry_value(&entries[i], "content-types"));

  /* The consumer test: a token for alice from the issuer, signed EdDSA. */
  err = pact_driver_configure(d, "application/jwt",
                              "{\"algorithm\": \"EdDSA\", \"signing-key\": \"pact-jwt\", "
                              "\"token\": {\"iss\": \"https://issuer.example\", \"sub\": "
                              "\"alice\", \"aud\": \"orders\"}}",
                              &in);
  if (err) goto done;
  printf("expected body (%s): %s\n", in.content_type, in.body);

  /* Provider verification: tokens the provider made. */
  char claims[4][256];
  long now = (long)time(NULL);
  const char *base = "\"iss\":\"https://issuer.example\",\"aud\":\"orders\"";
  snprintf(claims[0], 256, "{%s,\"sub\":\"alice\",\"exp\":%ld}", base, now + 600);
  snprintf(claims[1], 256, "{%s,\"sub\":\"mallory\",\"exp\":%ld}", base, now + 600);
  snprintf(claims[2], 256, "{%s,\"sub\":\"alice\",\"exp\":%ld}", base, now + 600);
  snprintf(claims[3], 256, "{%s,\"sub\":\"alice\",\"exp\":%ld}", base, now - 60);
  EVP_PKEY *signer[4] = {key, key, rogue, key};
  const char *label[4] = {"matching", "mismatching", "bad-sig", "expired"};
  bool all = true;
  for (int i = 0; i < 4; i++) {
    char *tok = provider_token(signer[i], PROVIDER_HEADER, claims[i]);
    all &= tok && verify(d, &in, label[i], tok, i == 0 ? PACT_MATCHED : PACT_MISMATCHES);
    free(tok);
  }
  rc = all ? 0 : 1;
  if (!all) fprintf(stderr, "a comparison did not give the outcome it should\n");
done:
  if (err) rc = report(err);
  pact_interaction_clear(&in);
  pact_driver_free(d);
  wp_manifest_free(m);
  EVP_PKEY_free(key);
  EVP_PKEY_free(rogue);
  wp_engine_free(engine);
  return rc;
}
