/* The server: listening, connections and their timers, TLS over memory
 * BIOs, routing, offloading handlers to the threadpool, writing responses,
 * and a close that waits for every handle and every piece of work.
 *
 * A connection is a small state machine, one request at a time:
 *   READ    reading (or idle between requests); timer: request or idle
 *   HANDLE  an offloaded handler runs; not reading, no timer
 *   WRITE   the response is being written; not reading; timer: write
 *   LINGER  the last response is out, our side is shut down; reading and
 *           discarding until the client closes or the linger timer fires
 *   CLOSING the handles are closing; freed when both are closed and no
 *           work is pending
 *
 * Shedding. A connection with no request under way (READ with no byte of
 * one received, or LINGER) is "idle". At max_connections the idle one that
 * has waited longest is closed to make room for a newcomer; a client
 * (peer IP) at max_connections_per_client has its own longest-idle one
 * closed, or the newcomer refused when none is idle. */
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "http/internal.h"
#include "http/server.h"
#include "util/alloc.h"
#include "util/log.h"

#define LOGGER "http"
#define READ_CHUNK 65536
/* Plaintext read but not yet parsed: the rest of one read after a complete
 * request (reading stops while a request is handled), so small. */
#define MAX_PENDING_INPUT (1u << 20)
#define MAX_EXTRA_HEADERS 8192
/* How long a closing connection keeps draining what the client still
 * sends: closing with unread data makes the kernel reset the connection,
 * which can destroy our last response before the client reads it. */
#define LINGER_MS 2000

typedef struct route {
  char *path;
  char **methods; /* NULL = any */
  size_t nmethods;
  char *allow;    /* "GET, HEAD" for 405 answers */
  size_t max_body; /* for methods that carry a body; GET and HEAD take none */
  http_handler_fn fn;
  void *arg;
  int flags;
  UT_hash_handle hh;
} route;

enum conn_state { CONN_READ, CONN_HANDLE, CONN_WRITE, CONN_LINGER, CONN_CLOSING };
enum timer_phase { PHASE_NONE, PHASE_REQUEST, PHASE_IDLE, PHASE_WRITE, PHASE_LINGER };

/* The open connections of one peer IP. */
typedef struct client {
  char ip[INET6_ADDRSTRLEN];
  unsigned nconns; /* not yet closing */
  UT_hash_handle hh;
} client;

typedef struct http_conn http_conn;
struct http_conn {
  http_server *srv;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_work_t work;
  uv_shutdown_t shutdown;
  enum conn_state state;
  enum timer_phase phase;
  int handles_open;   /* tcp and timer until their close callbacks ran */
  int work_pending;   /* an offloaded handler has not come back yet */
  int reading;
  int keep_alive;     /* for the response being handled or written */
  int continue_sent;
  SSL *ssl;           /* NULL for plain HTTP */
  BIO *rbio, *wbio;   /* owned by ssl */
  http__reqparser rp;
  cubit_buf in;       /* plaintext not yet parsed */
  const route *route; /* of the request being answered, NULL when none matched */
  http_handler_fn fn; /* copied from the route for the worker thread */
  void *fn_arg;
  http_response resp;
  char remote[64];
  client *client;      /* NULL until accepted, and once closing */
  uint64_t idle_since; /* loop time of the accept or of the last response */
  http_conn *prev, *next;
};

struct http_server {
  uv_loop_t *loop;
  uv_tcp_t listener;
  http_server_opts opts; /* strings point to the copies below */
  char *name, *bind, *cert_file;
  struct sockaddr_storage addr;
  http__tls *tls;
  route *routes;
  http_conn *conns;
  unsigned nconns;
  client *clients;
  http__body_budget budget;
  int port;
  int closing, listener_closed, accept_pending;
  metric *requests_total, *shed_total;
  http_server_close_cb close_cb;
  void *close_arg;
  atomic_uint_fast64_t n_accepted, n_open, n_requests, n_reloads, n_evicted, n_refused;
  char readbuf[READ_CHUNK];
  char plainbuf[16384]; /* one TLS record of plaintext */
};

typedef struct conn_write_req {
  uv_write_t req;
  char *a, *b;
  int ends_response;
} conn_write_req;

static void conn_close(http_conn *c);
static void conn_process(http_conn *c);
static void conn_respond(http_conn *c);
static void conn_accept(http_server *s);

/* ---- options, addresses, routes ---- */

void http_server_opts_init(http_server_opts *o) {
  memset(o, 0, sizeof(*o));
  o->name = "http";
  o->bind = "127.0.0.1:0";
  o->cert_check_interval_ms = 10000;
  o->max_body_buffered = 32u << 20;
  o->max_response_body = 64u << 20;
  o->max_headers = 100;
  o->max_header_bytes = 32u << 10;
  o->request_timeout_ms = 10000;
  o->write_timeout_ms = 10000;
  o->idle_timeout_ms = 120000;
  o->max_connections = 1024;
  o->max_connections_per_client = 256;
}

static int parse_port(const char *s, int *port) {
  size_t n = strlen(s);
  if (n == 0 || n > 5 || strspn(s, "0123456789") != n) return CUBIT_EINVAL;
  long v = strtol(s, NULL, 10);
  if (v > 65535) return CUBIT_EINVAL;
  *port = (int)v;
  return 0;
}

/* "1.2.3.4:port" or "[v6]:port", numeric only: a listener never resolves. */
static int parse_bind(const char *bind, struct sockaddr_storage *out) {
  char host[64];
  const char *port_str;
  size_t host_len;
  int port, v6 = 0;
  if (bind == NULL) return CUBIT_EINVAL;
  if (bind[0] == '[') {
    const char *end = strchr(bind, ']');
    if (end == NULL || end[1] != ':') return CUBIT_EINVAL;
    host_len = (size_t)(end - bind - 1);
    bind++;
    port_str = end + 2;
    v6 = 1;
  } else {
    const char *colon = strrchr(bind, ':');
    if (colon == NULL) return CUBIT_EINVAL;
    host_len = (size_t)(colon - bind);
    port_str = colon + 1;
  }
  if (host_len == 0 || host_len >= sizeof(host)) return CUBIT_EINVAL;
  memcpy(host, bind, host_len);
  host[host_len] = '\0';
  if (parse_port(port_str, &port)) return CUBIT_EINVAL;
  memset(out, 0, sizeof(*out));
  if (v6) return uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) ? CUBIT_EINVAL : 0;
  return uv_ip4_addr(host, port, (struct sockaddr_in *)out) ? CUBIT_EINVAL : 0;
}

static void route_free(route *r) {
  for (size_t i = 0; i < r->nmethods; i++) free(r->methods[i]);
  free(r->methods);
  free(r->allow);
  free(r->path);
  free(r);
}

/* Splits "GET, HEAD" into tokens. Returns CUBIT_EINVAL for an empty or
 * blank-containing token. */
static int route_set_methods(route *r, const char *methods) {
  cubit_buf allow;
  int err = 0;
  buf_init(&allow, 4096);
  for (const char *p = methods;; p++) {
    size_t len = strcspn(p, ",");
    const char *tok = p + strspn(p, " ");
    size_t tok_len = strcspn(tok, " ,");
    if (tok_len == 0 || tok + tok_len + strspn(tok + tok_len, " ") != p + len) {
      err = CUBIT_EINVAL;
      goto out;
    }
    r->methods = xrealloc(r->methods, (r->nmethods + 1) * sizeof(*r->methods));
    r->methods[r->nmethods++] = xstrndup(tok, tok_len);
    if (allow.len && buf_appends(&allow, ", ")) err = CUBIT_EINVAL;
    if (!err && buf_appends(&allow, r->methods[r->nmethods - 1])) err = CUBIT_EINVAL;
    if (err) goto out;
    p += len;
    if (*p == '\0') break;
  }
  r->allow = buf_detach(&allow);
  if (r->allow == NULL) err = CUBIT_ENOMEM;
out:
  buf_free(&allow);
  return err;
}

int http_server_route(http_server *s, const char *path, const char *methods, size_t max_body,
                      http_handler_fn fn, void *arg, int flags) {
  if (path == NULL || path[0] != '/' || fn == NULL ||
      (flags != HTTP_ROUTE_INLINE && flags != HTTP_ROUTE_OFFLOAD))
    return CUBIT_EINVAL;
  route *r;
  HASH_FIND_STR(s->routes, path, r);
  if (r) return CUBIT_EINVAL;
  r = xcalloc(1, sizeof(*r));
  r->path = xstrdup(path);
  r->max_body = max_body;
  r->fn = fn;
  r->arg = arg;
  r->flags = flags;
  if (methods) {
    int err = route_set_methods(r, methods);
    if (err) {
      route_free(r);
      return err;
    }
  }
  HASH_ADD_KEYPTR(hh, s->routes, r->path, strlen(r->path), r);
  return 0;
}

/* The route of 'path': its exact one, else the longest route ending in '/'
 * that the path starts with ("/api/v1/experiments/" serves
 * "/api/v1/experiments/ns/name/trials"). */
static const route *route_find(const http_server *s, const char *path) {
  route *r = NULL;
  if (path == NULL) return NULL;
  HASH_FIND_STR(s->routes, path, r);
  if (r) return r;
  size_t n = strlen(path);
  char *prefix = xmalloc(n + 1);
  memcpy(prefix, path, n + 1);
  for (size_t i = n; r == NULL && i-- > 1;) {
    if (prefix[i - 1] != '/') continue;
    prefix[i] = '\0';
    HASH_FIND_STR(s->routes, prefix, r);
  }
  free(prefix);
  return r;
}

static int route_allows(const route *r, const char *method) {
  if (r->methods == NULL) return 1;
  for (size_t i = 0; i < r->nmethods; i++)
    if (strcmp(r->methods[i], method) == 0) return 1;
  return 0;
}

/* The body cap of a request, decided by the request reader as soon as the
 * headers are in: a body nobody would read is refused before it is
 * buffered, with the status the request would get anyway. */
static int request_limit(void *arg, const http_request *req, int has_body, size_t *max_body) {
  const http_server *s = arg;
  const route *r = route_find(s, req->path);
  int takes_body = r && route_allows(r, req->method) && strcmp(req->method, "GET") != 0 &&
                   strcmp(req->method, "HEAD") != 0;
  *max_body = takes_body ? r->max_body : 0;
  if (!has_body) return 0;
  if (r == NULL) return 404;
  if (!route_allows(r, req->method)) return 405;
  return 0; /* over the cap: the reader answers 413 */
}

/* ---- responses ---- */

static int is_server_header(const char *name) {
  static const char *const owned[] = {"Content-Type", "Content-Length", "Connection", "Date",
                                      "Transfer-Encoding"};
  for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
    if (strcasecmp(name, owned[i]) == 0) return 1;
  return 0;
}

int http_response_header(http_response *r, const char *name, const char *value) {
  if (name == NULL || value == NULL || name[0] == '\0' || strpbrk(name, "\r\n: \t") ||
      strpbrk(value, "\r\n") || is_server_header(name))
    return CUBIT_EINVAL;
  return buf_appendf(&r->headers_, "%s: %s\r\n", name, value);
}

static void resp_init(http_response *r, size_t max_body) {
  r->status = 200;
  r->content_type = NULL;
  buf_init(&r->body, max_body);
  buf_init(&r->headers_, MAX_EXTRA_HEADERS);
}

static void resp_free(http_response *r) {
  buf_free(&r->body);
  buf_free(&r->headers_);
}

/* Replaces the response with a short text one: errors the server answers. */
static void resp_set_error(http_response *r, int status) {
  buf_reset(&r->body);
  buf_reset(&r->headers_);
  r->status = status;
  r->content_type = NULL;
  if (status == 404) {
    if (buf_appends(&r->body, "404 page not found\n")) buf_reset(&r->body);
  } else if (buf_appendf(&r->body, "%d %s\n", status, http_status_str((enum http_status)status))) {
    buf_reset(&r->body);
  }
}

static void http_date(char out[64]) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ---- connection plumbing ---- */

static const char *phase_name(enum timer_phase p) {
  switch (p) {
    case PHASE_REQUEST: return "request";
    case PHASE_IDLE: return "idle";
    case PHASE_WRITE: return "write";
    case PHASE_LINGER: return "linger";
    default: return "none";
  }
}

static void on_timer(uv_timer_t *t) {
  http_conn *c = t->data;
  if (c->phase == PHASE_REQUEST || c->phase == PHASE_WRITE)
    log_v(2, LOGGER, "connection timed out", "server=%s remote=%s phase=%s", c->srv->name, c->remote,
          phase_name(c->phase));
  conn_close(c);
}

static void timer_arm(http_conn *c, enum timer_phase phase, unsigned ms) {
  c->phase = phase;
  uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void timer_disarm(http_conn *c) {
  c->phase = PHASE_NONE;
  uv_timer_stop(&c->timer);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  http_conn *c = h->data;
  /* The read callback consumes the bytes before the loop reads again, so
   * one buffer per server serves every connection. */
  buf->base = c->srv->readbuf;
  buf->len = sizeof(c->srv->readbuf);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

/* ---- clients and idle connections ---- */

static void client_release(http_conn *c) {
  client *cl = c->client;
  if (cl == NULL) return;
  c->client = NULL;
  if (--cl->nconns == 0) {
    HASH_DEL(c->srv->clients, cl);
    free(cl);
  }
}

/* No request under way: nothing to lose by closing it. */
static int conn_is_idle(const http_conn *c) {
  return c->state == CONN_LINGER || (c->state == CONN_READ && !c->rp.started && c->in.len == 0);
}

/* The idle connection (of client 'cl', or of anyone when NULL) that has
 * waited longest, or NULL. */
static http_conn *oldest_idle(const http_server *s, const client *cl) {
  http_conn *best = NULL;
  for (http_conn *c = s->conns; c; c = c->next)
    if (c->client && (cl == NULL || c->client == cl) && conn_is_idle(c) &&
        (best == NULL || c->idle_since < best->idle_since))
      best = c;
  return best;
}

static void conn_read(http_conn *c, int on) {
  if (on == c->reading || c->state == CONN_CLOSING) return;
  if (on) {
    int err = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (err) {
      log_v(2, LOGGER, "read start failed", "server=%s remote=%s err=\"%s\"", c->srv->name, c->remote,
            uv_strerror(err));
      conn_close(c);
      return;
    }
  } else {
    uv_read_stop((uv_stream_t *)&c->tcp);
  }
  c->reading = on;
}

static void server_maybe_free(http_server *s) {
  if (!s->listener_closed || s->conns) return;
  route *r, *tmp;
  HASH_ITER(hh, s->routes, r, tmp) {
    HASH_DEL(s->routes, r);
    route_free(r);
  }
  client *cl, *ctmp;
  HASH_ITER(hh, s->clients, cl, ctmp) { /* empty: every connection released its client */
    HASH_DEL(s->clients, cl);
    free(cl);
  }
  http__tls_free(s->tls);
  http_server_close_cb cb = s->close_cb;
  void *arg = s->close_arg;
  free(s->name);
  free(s->bind);
  free(s->cert_file);
  free(s);
  if (cb) cb(arg);
}

static void conn_maybe_free(http_conn *c) {
  if (c->handles_open > 0 || c->work_pending) return;
  http_server *s = c->srv;
  if (c->prev) c->prev->next = c->next;
  else s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
  atomic_fetch_sub(&s->n_open, 1);
  http__reqparser_free(&c->rp);
  buf_free(&c->in);
  resp_free(&c->resp);
  SSL_free(c->ssl);
  free(c);
  if (s->closing) server_maybe_free(s);
  else if (s->accept_pending) conn_accept(s);
}

static void on_conn_handle_closed(uv_handle_t *h) {
  http_conn *c = h->data;
  c->handles_open--;
  conn_maybe_free(c);
}

/* Closes at once. The struct stays until both handles are closed and an
 * offloaded handler, if any, has come back. */
static void conn_close(http_conn *c) {
  if (c->state == CONN_CLOSING) return;
  c->state = CONN_CLOSING;
  client_release(c);
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_write(uv_write_t *req, int status);

/* Queues a (and b when blen > 0) for writing; takes ownership of both.
 * Returns -1 after closing the connection. */
static int conn_write(http_conn *c, char *a, size_t alen, char *b, size_t blen, int ends_response) {
  conn_write_req *w = xcalloc(1, sizeof(*w));
  w->a = a;
  w->b = b;
  w->ends_response = ends_response;
  w->req.data = c;
  uv_buf_t bufs[2] = {uv_buf_init(a, (unsigned)alen), uv_buf_init(b, (unsigned)blen)};
  int err = uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, blen ? 2 : 1, on_write);
  if (err) {
    log_v(2, LOGGER, "write failed", "server=%s remote=%s err=\"%s\"", c->srv->name, c->remote,
          uv_strerror(err));
    free(a);
    free(b);
    free(w);
    conn_close(c);
    return -1;
  }
  return 0;
}

/* Sends what OpenSSL queued in the write BIO (handshake messages, alerts,
 * records). Returns -1 after closing the connection. */
static int tls_flush(http_conn *c, int ends_response) {
  size_t pending = BIO_ctrl_pending(c->wbio);
  if (pending == 0 && !ends_response) return 0;
  char *data = xmalloc(pending ? pending : 1);
  int n = pending ? BIO_read(c->wbio, data, (int)pending) : 0;
  return conn_write(c, data, n > 0 ? (size_t)n : 0, NULL, 0, ends_response);
}

/* Sends plaintext through TLS when the connection has it. Takes ownership
 * of both buffers. Returns -1 after closing the connection. */
static int conn_send(http_conn *c, char *a, size_t alen, char *b, size_t blen, int ends_response) {
  if (c->ssl == NULL) return conn_write(c, a, alen, b, blen, ends_response);
  ERR_clear_error();
  int ok = SSL_write(c->ssl, a, (int)alen) > 0 && (blen == 0 || SSL_write(c->ssl, b, (int)blen) > 0);
  free(a);
  free(b);
  if (!ok) {
    log_v(2, LOGGER, "tls write failed", "server=%s remote=%s", c->srv->name, c->remote);
    conn_close(c);
    return -1;
  }
  return tls_flush(c, ends_response);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  http_conn *c = req->data;
  if (status < 0 && c->state != CONN_CLOSING) conn_close(c);
}

/* Closes gracefully after the last response: TLS close_notify, FIN once
 * the queued writes are out, then drain until the client closes. */
static void conn_finish(http_conn *c, int close_notify) {
  if (c->state == CONN_CLOSING || c->state == CONN_LINGER) return;
  c->state = CONN_LINGER;
  if (c->ssl && close_notify) {
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    if (tls_flush(c, 0)) return;
  }
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    conn_close(c);
    return;
  }
  timer_arm(c, PHASE_LINGER, LINGER_MS);
  conn_read(c, 1);
}

static void conn_response_done(http_conn *c) {
  if (!c->keep_alive || c->srv->closing) {
    conn_finish(c, 1);
    return;
  }
  http__reqparser_next(&c->rp);
  resp_free(&c->resp);
  c->continue_sent = 0;
  c->route = NULL;
  c->state = CONN_READ;
  c->idle_since = uv_now(c->srv->loop);
  timer_arm(c, PHASE_IDLE, c->srv->opts.idle_timeout_ms);
  conn_process(c); /* a pipelined request may already be here */
}

static void on_write(uv_write_t *req, int status) {
  conn_write_req *w = (conn_write_req *)req;
  http_conn *c = req->data;
  int ends = w->ends_response;
  free(w->a);
  free(w->b);
  free(w);
  if (c->state == CONN_CLOSING) return;
  if (status < 0) {
    log_v(2, LOGGER, "write failed", "server=%s remote=%s err=\"%s\"", c->srv->name, c->remote,
          uv_strerror(status));
    conn_close(c);
    return;
  }
  if (ends && c->state == CONN_WRITE) conn_response_done(c);
}

/* ---- requests ---- */

static void count_shed(http_server *s, const char *reason) {
  if (s->shed_total) metric_add(s->shed_total, 1, reason);
}

static void count_request(http_conn *c, int status) {
  http_server *s = c->srv;
  atomic_fetch_add(&s->n_requests, 1);
  if (s->requests_total) {
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    metric_add(s->requests_total, 1, c->route ? c->route->path : "unmatched", code);
  }
}

/* Writes c->resp and moves to WRITE. */
static void conn_respond(http_conn *c) {
  http_server *s = c->srv;
  http_response *r = &c->resp;
  if (c->state == CONN_CLOSING) return;
  const char *ct = r->content_type ? r->content_type : "text/plain; charset=utf-8";
  if (r->status < 200 || r->status > 599 || strpbrk(ct, "\r\n")) {
    log_error(LOGGER, "handler produced an invalid response", "server=%s path=%s status=%d", s->name,
              c->route ? c->route->path : "", r->status);
    resp_set_error(r, 500);
    ct = "text/plain; charset=utf-8";
  }
  int no_body = r->status == 204 || r->status == 304;
  int head_only = c->rp.state == HTTP_RP_COMPLETE && strcmp(c->rp.req.method, "HEAD") == 0;
  char date[64];
  http_date(date);
  char length[48] = "";
  if (!no_body) snprintf(length, sizeof(length), "Content-Length: %zu\r\n", r->body.len);
  /* HTTP/1.0 clients keep the connection only when told so */
  int http10 = c->rp.state == HTTP_RP_COMPLETE && c->rp.parser.http_major == 1 &&
               c->rp.parser.http_minor == 0;
  const char *connection = !c->keep_alive ? "Connection: close\r\n"
                           : http10       ? "Connection: keep-alive\r\n"
                                          : "";
  char *head = xasprintf("HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n%s%s%s\r\n", r->status,
                         http_status_str((enum http_status)r->status), date, ct, length, connection,
                         r->headers_.data ? r->headers_.data : "");
  count_request(c, r->status);
  http__reqparser_release_body(&c->rp); /* the handler is done with it */
  size_t body_len = (no_body || head_only) ? 0 : r->body.len;
  char *body = body_len ? r->body.data : NULL;
  if (body) buf_init(&r->body, s->opts.max_response_body); /* the write owns it now */
  c->state = CONN_WRITE;
  timer_arm(c, PHASE_WRITE, s->opts.write_timeout_ms);
  conn_read(c, 0);
  conn_send(c, head, strlen(head), body, body_len, 1);
}

static void conn_respond_error(http_conn *c, int status) {
  if (c->route == NULL && c->rp.headers_done) c->route = route_find(c->srv, c->rp.req.path);
  c->keep_alive = 0;
  resp_free(&c->resp);
  resp_init(&c->resp, c->srv->opts.max_response_body);
  resp_set_error(&c->resp, status);
  int hdr_err = 0;
  if (status == 405 && c->route) hdr_err = http_response_header(&c->resp, "Allow", c->route->allow);
  if (status == 503) { /* the body budget is spent: a moment later it is not */
    hdr_err = http_response_header(&c->resp, "Retry-After", "1");
    count_shed(c->srv, "body_budget");
  }
  if (hdr_err) resp_set_error(&c->resp, 500);
  log_v(2, LOGGER, "bad request", "server=%s remote=%s status=%d", c->srv->name, c->remote, status);
  conn_respond(c);
}

static void on_work(uv_work_t *w) {
  http_conn *c = w->data;
  c->fn(&c->rp.req, &c->resp, c->fn_arg);
}

static void on_work_done(uv_work_t *w, int status) {
  http_conn *c = w->data;
  c->work_pending = 0;
  if (c->state == CONN_CLOSING) {
    conn_maybe_free(c);
    return;
  }
  if (status == UV_ECANCELED) {
    c->keep_alive = 0;
    resp_set_error(&c->resp, 503);
  }
  conn_respond(c);
}

static void conn_dispatch(http_conn *c) {
  http_server *s = c->srv;
  http_request *req = &c->rp.req;
  req->remote = c->remote;
  c->keep_alive = c->rp.keep_alive && !s->closing;
  resp_free(&c->resp);
  resp_init(&c->resp, s->opts.max_response_body);
  c->route = route_find(s, req->path);
  conn_read(c, 0);
  timer_disarm(c);
  if (c->route == NULL) {
    resp_set_error(&c->resp, 404);
    conn_respond(c);
    return;
  }
  if (!route_allows(c->route, req->method)) {
    resp_set_error(&c->resp, 405);
    if (http_response_header(&c->resp, "Allow", c->route->allow)) resp_set_error(&c->resp, 500);
    conn_respond(c);
    return;
  }
  /* HANDLE also while an inline handler runs: it may close the server */
  c->state = CONN_HANDLE;
  if (c->route->flags & HTTP_ROUTE_OFFLOAD) {
    c->fn = c->route->fn;
    c->fn_arg = c->route->arg;
    c->work.data = c;
    int err = uv_queue_work(s->loop, &c->work, on_work, on_work_done);
    if (err == 0) {
      c->work_pending = 1;
      return;
    }
    log_error(LOGGER, "cannot offload handler", "server=%s path=%s err=\"%s\"", s->name,
              c->route->path, uv_strerror(err));
    resp_set_error(&c->resp, 500);
    conn_respond(c);
    return;
  }
  c->route->fn(req, &c->resp, c->route->arg);
  conn_respond(c);
}

static void conn_send_continue(http_conn *c) {
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  c->continue_sent = 1;
  conn_send(c, xstrdup(cont), sizeof(cont) - 1, NULL, 0, 0);
}

/* Parses what is buffered and acts on it; reads more when it needs to. */
static void conn_process(http_conn *c) {
  while (c->state == CONN_READ && c->in.len > 0) {
    /* the first byte of a request starts its deadline */
    if (c->phase == PHASE_IDLE) timer_arm(c, PHASE_REQUEST, c->srv->opts.request_timeout_ms);
    size_t n = http__reqparser_feed(&c->rp, c->in.data, c->in.len);
    buf_consume(&c->in, n);
    if (c->rp.state == HTTP_RP_COMPLETE) {
      conn_dispatch(c);
    } else if (c->rp.state == HTTP_RP_ERROR) {
      conn_respond_error(c, c->rp.error_status);
    } else {
      if (c->rp.expect_continue && !c->continue_sent) conn_send_continue(c);
      if (n == 0) break;
    }
  }
  /* A read can leave a large buffer behind; between requests a connection
   * keeps none (while a body streams in, the buffer is reused). */
  if (c->in.len == 0 && c->in.data && !c->rp.started) buf_free(&c->in);
  if (c->state == CONN_READ) conn_read(c, 1);
}

/* Decrypts what arrived into c->in. Returns -1 after closing. */
static int tls_receive(http_conn *c, const char *data, size_t len) {
  http_server *s = c->srv;
  if (BIO_write(c->rbio, data, (int)len) != (int)len) {
    conn_close(c);
    return -1;
  }
  for (;;) {
    ERR_clear_error();
    int n = SSL_read(c->ssl, s->plainbuf, (int)sizeof(s->plainbuf));
    if (n > 0) {
      if (buf_append(&c->in, s->plainbuf, (size_t)n)) {
        conn_respond_error(c, 400);
        return -1;
      }
      continue;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) break;
    if (e == SSL_ERROR_ZERO_RETURN) { /* the client's close_notify */
      conn_close(c);
      return -1;
    }
    unsigned long code = ERR_peek_last_error();
    char reason[256] = "connection error";
    if (code) ERR_error_string_n(code, reason, sizeof(reason));
    log_v(1, LOGGER, SSL_is_init_finished(c->ssl) ? "tls error" : "tls handshake failed",
          "server=%s remote=%s err=\"%s\"", s->name, c->remote, reason);
    /* send the alert OpenSSL queued, then close */
    if (tls_flush(c, 0) == 0) conn_finish(c, 0);
    return -1;
  }
  return tls_flush(c, 0); /* handshake messages, session tickets */
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  http_conn *c = st->data;
  if (nread == 0) return;
  if (nread < 0) {
    if (nread != UV_EOF)
      log_v(2, LOGGER, "read failed", "server=%s remote=%s err=\"%s\"", c->srv->name, c->remote,
            uv_strerror((int)nread));
    else if (c->state == CONN_READ && (c->rp.started || c->in.len))
      log_v(2, LOGGER, "client closed in the middle of a request", "server=%s remote=%s",
            c->srv->name, c->remote);
    conn_close(c);
    return;
  }
  if (c->state != CONN_READ) return; /* LINGER: discard */
  if (c->ssl) {
    if (tls_receive(c, buf->base, (size_t)nread)) return;
  } else if (buf_append(&c->in, buf->base, (size_t)nread)) {
    conn_respond_error(c, 400);
    return;
  }
  conn_process(c);
}

/* Sets c->remote ("ip:port") and ip (the peer's address, "unknown" when
 * it cannot be read). */
static void set_remote(http_conn *c, char ip[INET6_ADDRSTRLEN]) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  snprintf(ip, INET6_ADDRSTRLEN, "unknown");
  snprintf(c->remote, sizeof(c->remote), "unknown");
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0) return;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    uv_ip4_name(a, ip, INET6_ADDRSTRLEN);
    snprintf(c->remote, sizeof(c->remote), "%s:%d", ip, ntohs(a->sin_port));
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    uv_ip6_name(a, ip, INET6_ADDRSTRLEN);
    snprintf(c->remote, sizeof(c->remote), "[%s]:%d", ip, ntohs(a->sin6_port));
  }
}

static int conn_start_tls(http_conn *c) {
  http_server *s = c->srv;
  int reloaded = 0;
  char *err = NULL;
  SSL_CTX *ctx = http__tls_ctx(s->tls, uv_now(s->loop), &reloaded, &err);
  if (err) {
    log_error(LOGGER, "certificate reload failed, keeping the previous one", "server=%s err=\"%s\"",
              s->name, err);
    free(err);
  }
  if (reloaded) {
    atomic_fetch_add(&s->n_reloads, 1);
    log_info(LOGGER, "certificate reloaded", "server=%s cert=%s", s->name, s->opts.cert_file);
  }
  ERR_clear_error();
  c->ssl = SSL_new(ctx);
  c->rbio = BIO_new(BIO_s_mem());
  c->wbio = BIO_new(BIO_s_mem());
  if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
    BIO_free(c->rbio);
    BIO_free(c->wbio);
    return -1;
  }
  BIO_set_mem_eof_return(c->rbio, -1); /* empty means "wait for more", not EOF */
  SSL_set_bio(c->ssl, c->rbio, c->wbio);
  SSL_set_accept_state(c->ssl);
  return 0;
}

static void conn_accept(http_server *s) {
  s->accept_pending = 0;
  http_conn *c = xcalloc(1, sizeof(*c));
  c->srv = s;
  http__reqparser_init(&c->rp, 0, s->opts.max_headers, s->opts.max_header_bytes);
  http__reqparser_set_limit(&c->rp, request_limit, s, &s->budget);
  buf_init(&c->in, MAX_PENDING_INPUT);
  resp_init(&c->resp, s->opts.max_response_body);
  snprintf(c->remote, sizeof(c->remote), "unknown");
  if (uv_tcp_init(s->loop, &c->tcp) != 0) {
    http__reqparser_free(&c->rp);
    free(c);
    return;
  }
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c;
  c->timer.data = c;
  c->handles_open = 2;
  c->state = CONN_READ;
  c->next = s->conns;
  if (s->conns) s->conns->prev = c;
  s->conns = c;
  s->nconns++;
  atomic_fetch_add(&s->n_open, 1);

  int err = uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp);
  if (err) {
    log_v(1, LOGGER, "accept failed", "server=%s err=\"%s\"", s->name, uv_strerror(err));
    conn_close(c);
    return;
  }
  atomic_fetch_add(&s->n_accepted, 1);
  c->idle_since = uv_now(s->loop);
  char ip[INET6_ADDRSTRLEN];
  set_remote(c, ip);
  client *cl;
  HASH_FIND_STR(s->clients, ip, cl);
  if (cl && cl->nconns >= s->opts.max_connections_per_client) {
    /* the client's own longest-idle connection makes room, or it waits */
    http_conn *victim = oldest_idle(s, cl);
    if (victim == NULL) {
      atomic_fetch_add(&s->n_refused, 1);
      count_shed(s, "client_limit");
      log_v(2, LOGGER, "connection refused: client at its limit", "server=%s remote=%s limit=%u", s->name,
            c->remote, s->opts.max_connections_per_client);
      conn_close(c);
      return;
    }
    atomic_fetch_add(&s->n_evicted, 1);
    count_shed(s, "client_idle_evicted");
    log_v(2, LOGGER, "idle connection closed: client at its limit", "server=%s remote=%s", s->name,
          victim->remote);
    conn_close(victim); /* may free cl when it was the client's last */
    HASH_FIND_STR(s->clients, ip, cl);
  }
  if (cl == NULL) {
    cl = xcalloc(1, sizeof(*cl));
    snprintf(cl->ip, sizeof(cl->ip), "%s", ip);
    HASH_ADD_STR(s->clients, ip, cl);
  }
  cl->nconns++;
  c->client = cl;
  uv_tcp_nodelay(&c->tcp, 1);
  if (s->tls && conn_start_tls(c)) {
    log_error(LOGGER, "cannot create a TLS session", "server=%s remote=%s", s->name, c->remote);
    conn_close(c);
    return;
  }
  /* a new connection gets the request deadline at once: the client came to
   * send a request, and the TLS handshake must fit in it too */
  timer_arm(c, PHASE_REQUEST, s->opts.request_timeout_ms);
  conn_read(c, 1);
}

static void on_connection(uv_stream_t *l, int status) {
  http_server *s = l->data;
  if (status < 0) {
    log_v(1, LOGGER, "accept failed", "server=%s err=\"%s\"", s->name, uv_strerror(status));
    return;
  }
  if (s->closing) return;
  /* Not accepting leaves the connection in libuv's hands and stops libuv
   * from polling the listener, so clients past the cap wait in the backlog
   * until conn_maybe_free makes room. Closing the connection idle longest
   * makes that room at once: idle clients cannot lock newcomers out. */
  if (s->nconns >= s->opts.max_connections) {
    s->accept_pending = 1;
    http_conn *victim = oldest_idle(s, NULL);
    if (victim) {
      atomic_fetch_add(&s->n_evicted, 1);
      count_shed(s, "idle_evicted");
      log_v(2, LOGGER, "idle connection closed: server at capacity", "server=%s remote=%s", s->name,
            victim->remote);
      conn_close(victim);
    }
    return;
  }
  conn_accept(s);
}

/* ---- lifecycle ---- */

int http_server_new(uv_loop_t *loop, const http_server_opts *opts, http_server **out) {
  *out = NULL;
  struct sockaddr_storage addr;
  if (parse_bind(opts->bind, &addr)) return CUBIT_EINVAL;
  if ((opts->cert_file == NULL) != (opts->key_file == NULL)) return CUBIT_EINVAL;
  if (opts->max_connections == 0 || opts->max_connections_per_client == 0 || opts->max_headers == 0 ||
      opts->max_header_bytes == 0 ||
      opts->request_timeout_ms == 0 || opts->write_timeout_ms == 0 || opts->idle_timeout_ms == 0)
    return CUBIT_EINVAL;
  http__tls *tls = NULL;
  if (opts->cert_file) {
    char *err = NULL;
    if (http__tls_new(opts->cert_file, opts->key_file, opts->cert_check_interval_ms, &tls, &err)) {
      log_error(LOGGER, "cannot load the serving certificate", "server=%s err=\"%s\"",
                opts->name ? opts->name : "http", err ? err : "");
      free(err);
      return CUBIT_ETLS;
    }
  }
  http_server *s = xcalloc(1, sizeof(*s));
  s->loop = loop;
  s->opts = *opts;
  s->name = xstrdup(opts->name ? opts->name : "http");
  s->bind = xstrdup(opts->bind);
  s->opts.name = s->name;
  s->opts.bind = s->bind;
  s->cert_file = opts->cert_file ? xstrdup(opts->cert_file) : NULL;
  s->opts.cert_file = s->cert_file;
  s->opts.key_file = NULL; /* the TLS context keeps its own copies */
  s->addr = addr;
  s->tls = tls;
  s->port = -1;
  s->budget.max = opts->max_body_buffered;
  if (opts->metrics) {
    s->requests_total = metrics_counter(opts->metrics, "cubit_http_requests_total",
                                        "HTTP requests answered, by route path and status code",
                                        "path,code");
    s->shed_total = metrics_counter(opts->metrics, "cubit_http_connections_shed_total",
                                    "Connections closed or requests refused to keep the server available, by reason",
                                    "reason");
  }
  uv_tcp_init(loop, &s->listener); /* cannot fail without flags; no socket until bind */
  s->listener.data = s;
  *out = s;
  return 0;
}

int http_server_start(http_server *s) {
  int err = uv_tcp_bind(&s->listener, (const struct sockaddr *)&s->addr, 0);
  if (!err) err = uv_listen((uv_stream_t *)&s->listener, 511, on_connection);
  if (err) {
    log_error(LOGGER, "cannot listen", "server=%s bind=%s err=\"%s\"", s->name, s->bind,
              uv_strerror(err));
    return CUBIT_EIO;
  }
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) == 0)
    s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                             : ((struct sockaddr_in *)&ss)->sin_port);
  log_info(LOGGER, "listening", "server=%s bind=%s port=%d tls=%s", s->name, s->bind, s->port,
           s->tls ? "true" : "false");
  return 0;
}

int http_server_port(const http_server *s) {
  return s->port;
}

int http_server_tls_min_version(const http_server *s) {
  return s->tls ? (int)SSL_CTX_get_min_proto_version(http__tls_current(s->tls)) : 0;
}

void http_server_stats_get(const http_server *s, http_server_stats *out) {
  http_server *m = (http_server *)s; /* atomic loads on a non-const object */
  out->connections_accepted = atomic_load(&m->n_accepted);
  out->connections_open = atomic_load(&m->n_open);
  out->requests = atomic_load(&m->n_requests);
  out->cert_reloads = atomic_load(&m->n_reloads);
  out->connections_evicted = atomic_load(&m->n_evicted);
  out->connections_refused = atomic_load(&m->n_refused);
  out->body_bytes = atomic_load(&m->budget.used);
  out->body_bytes_peak = atomic_load(&m->budget.peak);
}

static void on_listener_closed(uv_handle_t *h) {
  http_server *s = h->data;
  s->listener_closed = 1;
  server_maybe_free(s);
}

void http_server_close(http_server *s, http_server_close_cb cb, void *arg) {
  s->closing = 1;
  s->close_cb = cb;
  s->close_arg = arg;
  uv_close((uv_handle_t *)&s->listener, on_listener_closed);
  /* conn_close only starts closing, so the list stays intact while we walk it */
  for (http_conn *c = s->conns; c; c = c->next) {
    if (c->state == CONN_READ || c->state == CONN_LINGER) conn_close(c);
    else c->keep_alive = 0; /* HANDLE, WRITE: finish the response, then close */
  }
}
