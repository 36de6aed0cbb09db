/*
 * abi.h - the numbers of the Proxy-Wasm ABI 0.2.x (internal): statuses,
 * buffer, map and stream types, and the callbacks a filter may export.
 * docs/proxywasm-design.md section 2 says where each comes from.
 */
#ifndef WP_PROXYWASM_ABI_H
#define WP_PROXYWASM_ABI_H

#include <stdbool.h>

/* What every host function returns. */
enum {
  PW_OK = 0,
  PW_NOT_FOUND = 1,
  PW_BAD_ARGUMENT = 2,
  PW_SERIALIZATION_FAILURE = 3,
  PW_PARSE_FAILURE = 4,
  PW_INVALID_MEMORY_ACCESS = 6,
  PW_EMPTY = 7,
  PW_CAS_MISMATCH = 8,
  PW_INTERNAL_FAILURE = 10,
  PW_UNIMPLEMENTED = 12,
};

/* Buffer types (0..3 are wp_pw_buffer). */
enum {
  PW_BUF_HTTP_CALL_RESPONSE_BODY = 4,
  PW_BUF_GRPC_RECEIVE = 5,
  PW_BUF_VM_CONFIGURATION = 6,
  PW_BUF_PLUGIN_CONFIGURATION = 7,
  PW_BUF_FOREIGN_FUNCTION_ARGUMENTS = 8,
};

/* Map types (0..3 are wp_pw_map). */
enum {
  PW_MAP_GRPC_INITIAL = 4,
  PW_MAP_GRPC_TRAILING = 5,
  PW_MAP_HTTP_CALL_RESPONSE_HEADERS = 6,
  PW_MAP_HTTP_CALL_RESPONSE_TRAILERS = 7,
};

/* Stream types of proxy_continue_stream / proxy_close_stream. */
enum {
  PW_STREAM_REQUEST = 0,
  PW_STREAM_RESPONSE = 1,
  PW_STREAM_DOWNSTREAM = 2,
  PW_STREAM_UPSTREAM = 3
};

/* The callbacks (exports), in the order of pw_callbacks[]. */
typedef enum pw_cb {
  PW_ON_CONTEXT_CREATE,
  PW_ON_VM_START,
  PW_ON_CONFIGURE,
  PW_ON_TICK,
  PW_ON_QUEUE_READY,
  PW_ON_DONE,
  PW_ON_LOG,
  PW_ON_DELETE,
  PW_ON_REQUEST_HEADERS,
  PW_ON_REQUEST_BODY,
  PW_ON_REQUEST_TRAILERS,
  PW_ON_RESPONSE_HEADERS,
  PW_ON_RESPONSE_BODY,
  PW_ON_RESPONSE_TRAILERS,
  PW_ON_NEW_CONNECTION,
  PW_ON_DOWNSTREAM_DATA,
  PW_ON_UPSTREAM_DATA,
  PW_ON_DOWNSTREAM_CLOSE,
  PW_ON_UPSTREAM_CLOSE,
  PW_ON_HTTP_CALL_RESPONSE,
  PW_ON_FOREIGN_FUNCTION,
  PW_ON_GRPC_INITIAL_METADATA,
  PW_ON_GRPC_MESSAGE,
  PW_ON_GRPC_TRAILING_METADATA,
  PW_ON_GRPC_CLOSE,
  PW_CB_COUNT
} pw_cb;

/* A callback's export name and type: nparams i32 parameters, and one i32
   result or none. */
typedef struct pw_callback_type {
  const char *name;
  unsigned nparams;
  bool result;
} pw_callback_type;

extern const pw_callback_type pw_callbacks[PW_CB_COUNT];

#endif
