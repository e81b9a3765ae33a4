/* Watch streams, multiplexed on one libuv loop through curl's multi
 * interface (curl_multi_socket_action): every informer's watch is one
 * transfer on the same loop thread, so thousands of watched objects cost no
 * threads.
 *
 * A kube_watcher binds a curl multi handle to a uv_loop_t. All functions
 * here, and every callback, run on that loop's thread. */
#ifndef CUBIT_KUBE_WATCH_H
#define CUBIT_KUBE_WATCH_H

#include <jansson.h>
#include <uv.h>

#include "kube/client.h"
#include "util/buf.h"

typedef struct kube_watcher kube_watcher;
typedef struct kube_watch kube_watch;

/* Called for each ADDED, MODIFIED, DELETED or BOOKMARK event. 'object' is
 * borrowed: incref it to keep it. */
typedef void (*kube_watch_event_cb)(kube_watch *w, const char *type, json_t *object, void *arg);
/* Called once when the stream ends by itself: code 0 when the server closed
 * it normally (timeoutSeconds), CUBIT_EGONE when the resourceVersion is too
 * old (an ERROR event with 410, or HTTP 410), another code on failure. The
 * watch is freed after the callback returns. */
typedef void (*kube_watch_end_cb)(kube_watch *w, int code, const kube_status *st, void *arg);

int kube_watcher_new(uv_loop_t *loop, kube_client *c, kube_watcher **out) CUBIT_WUR;
/* Stops every watch (without end callbacks) and closes the libuv handles;
 * 'done' runs once everything is released (the loop must keep running). */
void kube_watcher_close(kube_watcher *w, void (*done)(void *arg), void *arg);

/* Starts 'GET ...?watch=true' for r in ns (NULL = all namespaces) from
 * o->resource_version. The watch is owned by the watcher; *out (may be NULL)
 * lets the caller stop it early. */
int kube_watch_start(kube_watcher *wr, const kube_resource *r, const char *ns, const kube_list_options *o,
                     kube_watch_event_cb on_event, kube_watch_end_cb on_end, void *arg,
                     kube_watch **out) CUBIT_WUR;
/* Stops a watch; its end callback is not called. Safe from inside its own
 * event callback. */
void kube_watch_stop(kube_watch *w);

/* The stream decoder, exposed for tests: feeds 'len' bytes of a watch body,
 * which arrives in arbitrary chunks, calling on_line for every complete
 * newline-terminated line (without the newline). 'pending' keeps the partial
 * last line between calls; its cap is the longest line accepted
 * (CUBIT_ETOOBIG beyond). Stops at the first non-zero on_line result and
 * returns it. */
int kube_stream_feed(cubit_buf *pending, const char *data, size_t len,
                     int (*on_line)(const char *line, size_t len, void *arg), void *arg) CUBIT_WUR;

#endif
