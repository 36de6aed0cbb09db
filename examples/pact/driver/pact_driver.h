/*
 * pact_driver.h - a Pact plugin driver on libwasmplug: the host side of the
 * Pact "WASM plugins" proposal (examples/pact/wit/plugin.wit).
 *
 * The driver loads content-matcher plugins (components of the world
 * pact:plugin/plugin), calls their `init` and keeps the catalogue entries
 * they return under the keys "plugin/$name/$type/$key". A consumer test
 * then asks it to configure an interaction for a content type and a
 * provider verification asks it to compare expected and actual bodies: the
 * driver finds the plugin whose catalogue entry lists the content type and
 * calls it.
 *
 * One driver is used by one thread at a time.
 */
#ifndef PACT_DRIVER_H
#define PACT_DRIVER_H

#include <stdbool.h>
#include <stddef.h>

#include "wasmplug.h"

typedef struct pact_driver pact_driver;

/** A catalogue entry: its key and its values (name, value pairs). */
typedef struct pact_entry {
  char *key; /* "plugin/$name/$type/$key" */
  char **names, **values;
  size_t nvalues;
} pact_entry;

/** What configure-interaction set up: the expected body and what the plugin needs back. */
typedef struct pact_interaction {
  char *plugin;       /* the plugin that made it */
  char *content_type; /* of the body */
  char *body;         /* NUL-terminated (the body may not hold NULs) */
  size_t body_len;
  char *rules;                /* matching rules, JSON */
  char *plugin_configuration; /* JSON, handed back to compare */
} pact_interaction;

typedef enum { PACT_MATCHED, PACT_TYPE_MISMATCH, PACT_MISMATCHES } pact_outcome;

typedef struct pact_mismatch {
  char *path, *expected, *actual, *message; /* expected, actual may be NULL */
} pact_mismatch;

/** What compare-contents found. */
typedef struct pact_comparison {
  pact_outcome outcome;
  char *type_mismatch; /* PACT_TYPE_MISMATCH: why */
  pact_mismatch *mismatches;
  size_t nmismatches;
} pact_comparison;

/** A driver over `engine` (borrowed: it must outlive the driver). */
pact_driver *pact_driver_new(wp_engine *engine);
void pact_driver_free(pact_driver *d);

/**
 * Loads the plugin at `path` as `name` under `manifest` (borrowed), calls its
 * init and adds its entries to the catalogue. WP_ERR_BAD_INPUT if `name` is
 * taken or init's entries are not usable.
 */
wp_error *pact_driver_load(pact_driver *d, const char *name, const char *path,
                           const wp_manifest *manifest);

/** The catalogue, sorted by key (borrowed; valid until the next load). */
const pact_entry *pact_driver_catalogue(const pact_driver *d, size_t *count);
/** The entry under `key`, or NULL. */
const pact_entry *pact_driver_entry(const pact_driver *d, const char *key);
/** A value of an entry, or NULL. */
const char *pact_entry_value(const pact_entry *e, const char *name);

/**
 * The name of the plugin whose content-matcher entry lists `content_type`
 * (parameters after ';' ignored), or NULL.
 */
const char *pact_driver_matcher_for(const pact_driver *d, const char *content_type);

/**
 * Sets up an interaction with a body of `content_type` from the test's
 * `config` (JSON text), through the matching plugin. A plugin's refusal is
 * WP_ERR_BAD_INPUT with its message. Free *out with pact_interaction_clear.
 */
wp_error *pact_driver_configure(pact_driver *d, const char *content_type, const char *config,
                                pact_interaction *out);
void pact_interaction_clear(pact_interaction *i);

/**
 * Compares `actual` (`actual_type`, `len` bytes) with the interaction's
 * expected body through the plugin that configured it. Free *out with
 * pact_comparison_clear.
 */
wp_error *pact_driver_compare(pact_driver *d, const pact_interaction *expected,
                              const char *actual_type, const void *actual, size_t len,
                              bool allow_unexpected_keys, pact_comparison *out);
void pact_comparison_clear(pact_comparison *c);

#endif
