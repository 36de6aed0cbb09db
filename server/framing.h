/*
 * framing.h - refusing requests whose body framing is ambiguous, for the
 * two libmicrohttpd listeners (listener.c, control.c).
 */
#ifndef WP_SERVER_FRAMING_H
#define WP_SERVER_FRAMING_H

#include <stdbool.h>

#include <microhttpd.h>

/*
 * If the request's headers leave its body's length open to two readings,
 * queues the refusal (400 for more than one Content-Length or for both
 * Transfer-Encoding and Content-Length, 501 for a transfer coding other than
 * chunked, each with Connection: close) and returns true, its status in
 * *status and MHD's result in *ret. Call it once the headers are in, before
 * reading the body.
 */
bool srv_framing_refused(struct MHD_Connection *c, int *status, enum MHD_Result *ret);

#endif
