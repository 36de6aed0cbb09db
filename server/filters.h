/*
 * filters.h - Proxy-Wasm filters in wasmplug serve (internal to server/).
 *
 * One wp_pw_host per server; one wp_pw_worker per listener thread (a
 * thread takes a slot on its first request), each behind a mutex so that
 * the driver thread can run what is due on it (ticks, HTTP call responses,
 * queue wake-ups) while the listener thread sleeps. A request runs through
 * its chain on its listener thread (pw_run); a filter that pauses suspends
 * the connection, and the event that resumes it comes through the driver.
 */
#ifndef WP_SERVER_FILTERS_H
#define WP_SERVER_FILTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "wasmplug.h"

typedef struct wp_server wp_server;
typedef struct srv_pw srv_pw;
typedef struct pw_run pw_run;

/* Starts the Proxy-Wasm side of a server with `nslots` worker slots (the
   listener's threads, plus the TCP listener's). */
wp_error *pw_start(wp_server *srv, unsigned nslots, srv_pw **out);
/* Resumes every paused request (they answer 503), stops the driver, frees
   the workers and the host. The listeners must be stopped first, except
   that pw_resume_all runs before they stop. */
void pw_stop(srv_pw *pw);
/* Resumes every paused request now (shutdown: they answer 503). */
void pw_resume_all(srv_pw *pw);
wp_pw_host *pw_host(srv_pw *pw);

/* The clusters filters' HTTP calls may reach (copied from a configuration being published). */
struct srv_config;
void pw_set_clusters(srv_pw *pw, const struct srv_config *c);

/* Starts a plugin's root context on every worker (ticks and queues run
   without traffic), and ends it on every worker when it is replaced. */
void pw_plugin_started(srv_pw *pw, wp_pw_plugin *p);
void pw_plugin_retired(srv_pw *pw, wp_pw_plugin *p);

/* The calling thread's worker, its slot's mutex held (for threads other than
   the HTTP listener's, such as the TCP listener's): the worker may be used
   until pw_unlock_worker. Events of its streams come from the driver thread,
   under the same mutex. */
wp_pw_worker *pw_lock_worker(srv_pw *pw);
void pw_unlock_worker(srv_pw *pw);

/* What a request's filters can read through properties. */
typedef struct pw_run_info {
  const char *remote;   /* "ip:port" */
  const char *local;    /* "ip:port" */
  uint64_t connection_id;
  uint32_t timeout_ms;  /* how long the request may stay paused in all: 504 after */
} pw_run_info;

/* What a step of the chain came to. */
typedef enum pw_result {
  PWR_DONE,    /* the chain passed the message on: read it with pw_run_*_out */
  PWR_PAUSED,  /* a filter paused: the connection was suspended (suspend_fn); run again when
                 resume_fn is called */
  PWR_LOCAL,   /* a filter answered: pw_run_local */
  PWR_CLOSE,   /* a filter closed the stream: reset the connection */
  PWR_FAILED,  /* a filter failed (not fail-open): 500; PWR_TIMEOUT: paused past the limit */
  PWR_TIMEOUT,
} pw_result;

/*
 * A request through filters. suspend_fn is called (on the listener thread,
 * during pw_run_request/_response) when a filter pauses; resume_fn later,
 * from the driver thread, when the request may go on. Both get `user`.
 */
pw_run *pw_run_new(srv_pw *pw, const pw_run_info *info, void (*suspend_fn)(void *),
                   void (*resume_fn)(void *), void *user);
void pw_run_free(pw_run *r);

/* The request as it arrived: pseudo-headers are made from method, uri,
   authority; headers are the client's (lower-case names). Copied. */
bool pw_run_set_request(pw_run *r, const char *method, const char *uri, const char *authority,
                        const wp_http_header *headers, size_t n, const uint8_t *body, size_t len);

/*
 * Runs the request through `chain` (appended to the filters the request
 * already went through: first the server's chain, then the route's), from
 * where it stopped. `route_name`, `metadata` (a JSON object) and `upstream`
 * (may each be NULL) become the route_name, route_metadata.<key> and
 * upstream.address properties of every filter of the request.
 */
pw_result pw_run_request(pw_run *r, wp_pw_plugin *const *chain, size_t n, const char *route_name,
                         const void *metadata, const char *upstream);

/* The request's time limit once routed (its route's timeout_ms): a pause
   past it from the start of the request answers 504. */
void pw_run_set_timeout(pw_run *r, uint32_t timeout_ms);

/* The request as the filters left it (borrowed until the next call on r). */
void pw_run_request_out(pw_run *r, const char **method, const char **path, const char **authority,
                        const wp_http_header **headers, size_t *n, const uint8_t **body,
                        size_t *len);

/* Sets the response (copied) and runs it back through every filter, last first. */
bool pw_run_set_response(pw_run *r, int status, const wp_http_header *headers, size_t n,
                         const uint8_t *body, size_t len);
pw_result pw_run_response(pw_run *r);
/* The response as the filters left it (borrowed). */
void pw_run_response_out(pw_run *r, int *status, const wp_http_header **headers, size_t *n,
                         const uint8_t **body, size_t *len);

/* After PWR_LOCAL: the filter's answer (borrowed). */
const wp_pw_local_response *pw_run_local(pw_run *r);
/* After PWR_FAILED: why (borrowed). */
const char *pw_run_error(pw_run *r);
/* Whether the run has any filter at all. */
size_t pw_run_filters(const pw_run *r);

#endif
