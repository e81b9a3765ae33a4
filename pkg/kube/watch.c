#include "kube/watch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/request.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"

/* The longest single watch event accepted: objects are limited to ~1.5 MiB by
 * etcd, so 16 MiB leaves room for any encoding overhead. */
#define MAX_EVENT_LINE ((size_t)16 << 20)

struct kube_watcher {
  uv_loop_t *loop;
  kube_client *client;
  CURLM *multi;
  uv_timer_t timer;
  kube_watch *watches; /* doubly linked, for close */
  int closing;
  int pending_closes; /* libuv handles still closing */
  void (*done)(void *arg);
  void *done_arg;
};

struct kube_watch {
  kube_watcher *wr;
  CURL *easy;
  struct curl_slist *headers;
  char *url;
  cubit_buf line;
  kube_watch_event_cb on_event;
  kube_watch_end_cb on_end;
  void *arg;
  int in_callback; /* inside on_event: stopping must be deferred */
  int stopped;
  int error_code;  /* from an ERROR event */
  kube_status st;
  char resource[64];
  kube_watch *prev, *next;
};

/* One polled socket, attached to curl's socket with curl_multi_assign. */
typedef struct sock_ctx {
  uv_poll_t poll;
  curl_socket_t fd;
  kube_watcher *wr;
} sock_ctx;

/* Every line, whole in one chunk or not, goes through 'pending', whose cap
 * is the only line limit: a shortcut for whole lines once skipped it
 * (issue 13). The copy costs little next to decoding the line's JSON. */
int kube_stream_feed(cubit_buf *pending, const char *data, size_t len,
                     int (*on_line)(const char *line, size_t len, void *arg), void *arg) {
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) : len;
    int rc = buf_append(pending, data, take);
    if (rc == 0 && nl) {
      rc = pending->len ? on_line(pending->data, pending->len, arg) : 0;
      buf_reset(pending);
    }
    if (rc) return rc;
    if (!nl) break;
    data += take + 1;
    len -= take + 1;
  }
  return 0;
}

static void unlink_watch(kube_watch *w) {
  kube_watcher *wr = w->wr;
  if (w->prev) w->prev->next = w->next;
  else wr->watches = w->next;
  if (w->next) w->next->prev = w->prev;
}

static void free_watch(kube_watch *w) {
  curl_multi_remove_handle(w->wr->multi, w->easy);
  curl_easy_cleanup(w->easy);
  curl_slist_free_all(w->headers);
  buf_free(&w->line);
  free(w->url);
  free(w);
}

static int handle_line(const char *line, size_t len, void *arg) {
  kube_watch *w = arg;
  json_error_t jerr;
  json_t *ev = json_loadb(line, len, 0, &jerr);
  if (ev == NULL) {
    snprintf(w->st.message, sizeof(w->st.message), "watch %s: undecodable event: %s", w->resource, jerr.text);
    w->error_code = CUBIT_EINVAL;
    return CUBIT_EINVAL;
  }
  const char *type = js_str(ev, "type");
  json_t *obj = json_object_get(ev, "object");
  int rc = 0;
  if (type == NULL || !json_is_object(obj)) {
    snprintf(w->st.message, sizeof(w->st.message), "watch %s: event without type or object", w->resource);
    w->error_code = rc = CUBIT_EINVAL;
  } else if (strcmp(type, "ERROR") == 0) {
    /* A Status: 410 Expired/Gone means our resourceVersion is too old. */
    long code = (long)js_int(obj, "code", 500);
    const char *reason = js_str(obj, "reason");
    w->error_code = kube__code_for(code, reason);
    w->st.http_status = code;
    snprintf(w->st.reason, sizeof(w->st.reason), "%s", reason ? reason : "");
    snprintf(w->st.message, sizeof(w->st.message), "%s", js_str(obj, "message") ? js_str(obj, "message") : "");
    rc = w->error_code;
  } else {
    w->in_callback = 1;
    w->on_event(w, type, obj, w->arg);
    w->in_callback = 0;
    if (w->stopped) rc = CUBIT_ESHUTDOWN;
  }
  json_decref(ev);
  return rc;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg) {
  kube_watch *w = arg;
  long http = 0;
  curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &http);
  if (http != 200) {
    /* An error body (a Status) is kept whole for kube__result. */
    if (buf_append(&w->line, data, size * n)) return 0;
    return size * n;
  }
  int rc = kube_stream_feed(&w->line, data, size * n, handle_line, w);
  if (rc == CUBIT_ETOOBIG) {
    snprintf(w->st.message, sizeof(w->st.message), "watch %s: event larger than %zu bytes", w->resource,
             MAX_EVENT_LINE);
    w->error_code = rc;
  }
  return rc ? 0 : size * n; /* 0 aborts the transfer */
}

static void finish(kube_watch *w, CURLcode cc) {
  int code;
  kube_status st = w->st;
  long http = 0;
  curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &http);
  if (w->stopped) {
    code = CUBIT_ESHUTDOWN;
  } else if (w->error_code) {
    code = w->error_code;
  } else if (http != 200 || cc != CURLE_OK) {
    code = kube__result(w->wr->client, w->easy, cc, "WATCH", w->line.data, w->line.len, &st);
    if (code == 0) code = CUBIT_ECONNECT; /* a 2xx other than 200 is not a watch */
  } else {
    code = 0;
  }
  unlink_watch(w);
  if (!w->stopped && w->on_end) w->on_end(w, code, &st, w->arg);
  free_watch(w);
}

static void check_done(kube_watcher *wr) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(wr->multi, &left))) {
    if (msg->msg != CURLMSG_DONE) continue;
    kube_watch *w = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
    finish(w, msg->data.result);
  }
}

/* Frees the watcher once its last libuv handle has closed. */
static void release_one(kube_watcher *wr) {
  if (--wr->pending_closes > 0 || !wr->closing) return;
  void (*done)(void *) = wr->done;
  void *arg = wr->done_arg;
  curl_multi_cleanup(wr->multi);
  free(wr);
  if (done) done(arg);
}

static void timer_closed(uv_handle_t *h) {
  release_one(h->data);
}

static void sock_closed(uv_handle_t *h) {
  sock_ctx *s = h->data;
  kube_watcher *wr = s->wr;
  free(s);
  release_one(wr);
}

static void on_poll(uv_poll_t *p, int status, int events) {
  sock_ctx *s = p->data;
  kube_watcher *wr = s->wr;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  curl_multi_socket_action(wr->multi, s->fd, flags, &running);
  check_done(wr);
}

static void on_timer(uv_timer_t *t) {
  kube_watcher *wr = t->data;
  int running;
  curl_multi_socket_action(wr->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done(wr);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp) {
  kube_watcher *wr = userp;
  sock_ctx *s = socketp;
  if (action == CURL_POLL_REMOVE) {
    if (s) {
      uv_poll_stop(&s->poll);
      curl_multi_assign(wr->multi, fd, NULL);
      wr->pending_closes++;
      uv_close((uv_handle_t *)&s->poll, sock_closed);
    }
    return 0;
  }
  if (s == NULL) {
    s = xcalloc(1, sizeof(*s));
    s->fd = fd;
    s->wr = wr;
    if (uv_poll_init_socket(wr->loop, &s->poll, fd) != 0) {
      free(s);
      return -1;
    }
    s->poll.data = s;
    curl_multi_assign(wr->multi, fd, s);
  }
  int events = 0;
  if (action == CURL_POLL_IN || action == CURL_POLL_INOUT) events |= UV_READABLE;
  if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT) events |= UV_WRITABLE;
  uv_poll_start(&s->poll, events, on_poll);
  return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
  kube_watcher *wr = userp;
  if (timeout_ms < 0) uv_timer_stop(&wr->timer);
  else uv_timer_start(&wr->timer, on_timer, (uint64_t)timeout_ms, 0);
  return 0;
}

int kube_watcher_new(uv_loop_t *loop, kube_client *c, kube_watcher **out) {
  kube_watcher *wr = xcalloc(1, sizeof(*wr));
  wr->loop = loop;
  wr->client = c;
  wr->multi = curl_multi_init();
  if (wr->multi == NULL) abort();
  uv_timer_init(loop, &wr->timer);
  wr->timer.data = wr;
  curl_multi_setopt(wr->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(wr->multi, CURLMOPT_SOCKETDATA, wr);
  curl_multi_setopt(wr->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(wr->multi, CURLMOPT_TIMERDATA, wr);
  *out = wr;
  return 0;
}

void kube_watcher_close(kube_watcher *wr, void (*done)(void *arg), void *arg) {
  wr->closing = 1;
  wr->done = done;
  wr->done_arg = arg;
  while (wr->watches) {
    kube_watch *w = wr->watches;
    unlink_watch(w);
    free_watch(w); /* removing the handle closes its sockets via socket_cb */
  }
  uv_timer_stop(&wr->timer);
  wr->pending_closes++;
  uv_close((uv_handle_t *)&wr->timer, timer_closed);
}

int kube_watch_start(kube_watcher *wr, const kube_resource *r, const char *ns, const kube_list_options *o,
                     kube_watch_event_cb on_event, kube_watch_end_cb on_end, void *arg, kube_watch **out) {
  if (wr->closing) return CUBIT_ESHUTDOWN;
  kube_watch *w = xcalloc(1, sizeof(*w));
  w->wr = wr;
  w->on_event = on_event;
  w->on_end = on_end;
  w->arg = arg;
  buf_init(&w->line, MAX_EVENT_LINE);
  snprintf(w->resource, sizeof(w->resource), "%s", r->resource);
  w->easy = curl_easy_init();
  if (w->easy == NULL) abort();
  int rc = kube__prepare(wr->client, w->easy, NULL, &w->headers, &w->st);
  if (rc) {
    curl_easy_cleanup(w->easy);
    buf_free(&w->line);
    free(w);
    return rc;
  }
  char *base = kube_resource_path(r, ns, NULL, NULL);
  char *q = kube__list_query(w->easy, o, 1);
  char *path = xasprintf("%s%s", base, q);
  w->url = kube__url(wr->client, path);
  free(path);
  free(q);
  free(base);
  curl_easy_setopt(w->easy, CURLOPT_URL, w->url);
  curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
  curl_easy_setopt(w->easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
  curl_easy_setopt(w->easy, CURLOPT_PRIVATE, w);
  curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  /* The server ends the watch after timeoutSeconds; this guard only catches
   * a connection that went silent without closing. */
  if (o && o->timeout_seconds > 0) curl_easy_setopt(w->easy, CURLOPT_TIMEOUT, o->timeout_seconds + 60L);
  if (curl_multi_add_handle(wr->multi, w->easy) != CURLM_OK) abort();
  w->next = wr->watches;
  if (wr->watches) wr->watches->prev = w;
  wr->watches = w;
  if (out) *out = w;
  log_v(4, "watch", "started", "resource=%s namespace=%s resourceVersion=%s", r->resource, ns ? ns : "",
        o && o->resource_version ? o->resource_version : "");
  return 0;
}

void kube_watch_stop(kube_watch *w) {
  w->stopped = 1;
  if (w->in_callback) return; /* on_data aborts the transfer; finish() frees it */
  unlink_watch(w);
  free_watch(w);
}
