/* pkg/http: the request reader on its own, then the server on a loop
 * thread with libcurl, raw sockets and a raw OpenSSL client as clients. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "http/internal.h"
#include "http/server.h"
#include "testutil.h"
#include "util/alloc.h"
#include "util/metrics.h"

/* ------------------------------------------------------------------ */
/* the request reader                                                  */

typedef struct rp_case {
  const char *name;
  const char *input;
  enum http__rp_state state;
  int status; /* error status, or 0 */
  const char *method, *path, *query, *body;
  const char *header, *header_value; /* one lookup to check, may be NULL */
  int keep_alive;
} rp_case;

static const rp_case rp_cases[] = {
    {"simple get", "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_RP_COMPLETE, 0, "GET", "/healthz", "",
     "", "host", "a", 1},
    {"query and trimmed header", "GET /p/q?x=1&y=2 HTTP/1.1\r\nX-Thing:   v a l  \r\n\r\n",
     HTTP_RP_COMPLETE, 0, "GET", "/p/q", "x=1&y=2", "", "X-THING", "v a l", 1},
    {"empty header value", "GET / HTTP/1.1\r\nX-Empty:\r\nX-B: b\r\n\r\n", HTTP_RP_COMPLETE, 0, "GET",
     "/", "", "", "x-empty", "", 1},
    {"content-length body", "POST /v HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", HTTP_RP_COMPLETE, 0,
     "POST", "/v", "", "hello", "content-length", "5", 1},
    {"chunked body and trailer",
     "POST /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
     HTTP_RP_COMPLETE, 0, "POST", "/v", "", "abcde", "x-trailer", NULL, 1},
    {"connection close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", HTTP_RP_COMPLETE, 0, "GET", "/", "",
     "", NULL, NULL, 0},
    {"http/1.0", "GET / HTTP/1.0\r\n\r\n", HTTP_RP_COMPLETE, 0, "GET", "/", "", "", NULL, NULL, 0},
    {"absolute form", "GET http://h:1/abs?q HTTP/1.1\r\n\r\n", HTTP_RP_COMPLETE, 0, "GET", "/abs", "q", "",
     NULL, NULL, 1},
    {"upgrade closes", "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
     HTTP_RP_COMPLETE, 0, "GET", "/", "", "", "upgrade", "websocket", 0},
    {"partial", "GET / HTTP/1.1\r\nHost: a\r\n", HTTP_RP_NEED_MORE, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"garbage", "HELLO\r\n\r\n", HTTP_RP_ERROR, 400, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"bad content-length", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", HTTP_RP_ERROR, 400, NULL, NULL,
     NULL, NULL, NULL, NULL, 0},
    {"unknown transfer-encoding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_RP_ERROR, 501,
     NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"gzip then chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", HTTP_RP_ERROR, 501,
     NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"asterisk target routes nowhere", "OPTIONS * HTTP/1.1\r\n\r\n", HTTP_RP_COMPLETE, 0, "OPTIONS", "*", "",
     "", NULL, NULL, 1},
    {"bad version", "GET / HTTP/x.1\r\n\r\n", HTTP_RP_ERROR, 400, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"post without length", "POST /v HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_RP_ERROR, 411, NULL, NULL, NULL, NULL,
     NULL, NULL, 0},
    {"put without length", "PUT /v HTTP/1.1\r\n\r\n", HTTP_RP_ERROR, 411, NULL, NULL, NULL, NULL, NULL, NULL,
     0},
    {"announced body over cap", "POST /v HTTP/1.1\r\nContent-Length: 65\r\n\r\n", HTTP_RP_ERROR, 413, NULL,
     NULL, NULL, NULL, NULL, NULL, 0},
    {"chunked body over cap",
     "POST /v HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n0123456789012345678901234567890123456789\r\n"
     "28\r\n0123456789012345678901234567890123456789\r\n0\r\n\r\n",
     HTTP_RP_ERROR, 413, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"too many headers", "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n\r\n", HTTP_RP_ERROR,
     431, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"header bytes over cap",
     "GET / HTTP/1.1\r\nX: 0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789\r\n\r\n",
     HTTP_RP_ERROR, 431, NULL, NULL, NULL, NULL, NULL, NULL, 0},
    {"target over cap",
     "GET /0123456789012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789012345678901234567890123456789 HTTP/1.1\r\n\r\n",
     HTTP_RP_ERROR, 414, NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

#define RP_MAX_BODY 64
#define RP_MAX_HEADERS 5
#define RP_MAX_HEADER_BYTES 128

static void check_rp_case(const rp_case *c, http__reqparser *rp) {
  ck_assert_msg(rp->state == c->state, "%s: state %d, want %d", c->name, rp->state, c->state);
  if (c->state == HTTP_RP_ERROR) {
    ck_assert_msg(rp->error_status == c->status, "%s: status %d, want %d", c->name, rp->error_status,
                  c->status);
    return;
  }
  if (c->state != HTTP_RP_COMPLETE) return;
  ck_assert_str_eq(rp->req.method, c->method);
  ck_assert_str_eq(rp->req.path, c->path);
  ck_assert_str_eq(rp->req.query, c->query);
  ck_assert_str_eq(rp->req.body, c->body);
  ck_assert_uint_eq(rp->req.body_len, strlen(c->body));
  ck_assert_int_eq(rp->keep_alive, c->keep_alive);
  if (c->header) {
    const char *v = http_request_header(&rp->req, c->header);
    if (c->header_value == NULL) ck_assert_msg(v == NULL, "%s: header %s should be absent", c->name, c->header);
    else {
      ck_assert_msg(v != NULL, "%s: header %s missing", c->name, c->header);
      ck_assert_str_eq(v, c->header_value);
    }
  }
}

START_TEST(reqparser_table) {
  const rp_case *c = &rp_cases[_i];
  /* whole input at once */
  http__reqparser rp;
  http__reqparser_init(&rp, RP_MAX_BODY, RP_MAX_HEADERS, RP_MAX_HEADER_BYTES);
  size_t len = strlen(c->input);
  size_t n = http__reqparser_feed(&rp, c->input, len);
  if (c->state != HTTP_RP_ERROR) ck_assert_uint_eq(n, len);
  check_rp_case(c, &rp);
  http__reqparser_free(&rp);
  /* one byte at a time: every callback split at every position */
  http__reqparser_init(&rp, RP_MAX_BODY, RP_MAX_HEADERS, RP_MAX_HEADER_BYTES);
  for (size_t i = 0; i < len && rp.state == HTTP_RP_NEED_MORE; i++) http__reqparser_feed(&rp, c->input + i, 1);
  check_rp_case(c, &rp);
  http__reqparser_free(&rp);
}
END_TEST

START_TEST(reqparser_pipelined) {
  const char *two = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /b?c HTTP/1.1\r\nX: y\r\n\r\nGET /c";
  http__reqparser rp;
  http__reqparser_init(&rp, RP_MAX_BODY, RP_MAX_HEADERS, RP_MAX_HEADER_BYTES);
  size_t len = strlen(two), off = 0;
  off += http__reqparser_feed(&rp, two, len);
  ck_assert_int_eq(rp.state, HTTP_RP_COMPLETE);
  ck_assert_str_eq(rp.req.path, "/a");
  ck_assert_str_eq(rp.req.body, "abc");
  ck_assert_uint_lt(off, len);
  /* paused: nothing more is parsed until next() */
  ck_assert_uint_eq(http__reqparser_feed(&rp, two + off, len - off), 0);
  http__reqparser_next(&rp);
  off += http__reqparser_feed(&rp, two + off, len - off);
  ck_assert_int_eq(rp.state, HTTP_RP_COMPLETE);
  ck_assert_str_eq(rp.req.method, "GET");
  ck_assert_str_eq(rp.req.path, "/b");
  ck_assert_str_eq(rp.req.query, "c");
  ck_assert_str_eq(http_request_header(&rp.req, "x"), "y");
  ck_assert_ptr_null(http_request_header(&rp.req, "content-length"));
  http__reqparser_next(&rp);
  off += http__reqparser_feed(&rp, two + off, len - off);
  ck_assert_uint_eq(off, len);
  ck_assert_int_eq(rp.state, HTTP_RP_NEED_MORE);
  ck_assert_int_eq(rp.started, 1);
  http__reqparser_free(&rp);
}
END_TEST

START_TEST(reqparser_expect_continue) {
  http__reqparser rp;
  http__reqparser_init(&rp, RP_MAX_BODY, RP_MAX_HEADERS, RP_MAX_HEADER_BYTES);
  const char *h = "POST /v HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  http__reqparser_feed(&rp, h, strlen(h));
  ck_assert_int_eq(rp.state, HTTP_RP_NEED_MORE);
  ck_assert_int_eq(rp.expect_continue, 1);
  http__reqparser_feed(&rp, "ok", 2);
  ck_assert_int_eq(rp.state, HTTP_RP_COMPLETE);
  ck_assert_str_eq(rp.req.body, "ok");
  http__reqparser_free(&rp);
}
END_TEST

static int parse_one(void *arg) {
  const char *input = arg;
  http__reqparser rp;
  http__reqparser_init(&rp, RP_MAX_BODY, RP_MAX_HEADERS, RP_MAX_HEADER_BYTES);
  /* two halves, so buffers grow across feeds */
  size_t len = strlen(input), half = len / 2;
  http__reqparser_feed(&rp, input, half);
  http__reqparser_feed(&rp, input + half, len - half);
  int rc = rp.state == HTTP_RP_COMPLETE ? 0 : -rp.error_status;
  if (rp.state == HTTP_RP_COMPLETE && (strcmp(rp.req.body, "abcde") != 0 ||
                                       strcmp(http_request_header(&rp.req, "x-a"), "1") != 0))
    rc = -1;
  http__reqparser_free(&rp);
  return rc;
}

START_TEST(reqparser_allocation_failure) {
  const char *req = "POST /v?q=1 HTTP/1.1\r\nX-A: 1\r\nX-B: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  ck_assert_int_eq(parse_one((void *)req), 0);
  int points = testutil_alloc_torture(parse_one, (void *)req);
  ck_assert_int_ne(points, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* a server on a loop thread                                           */

typedef struct fixture {
  uv_loop_t loop;
  uv_async_t stop;
  http_server *srv;
  pthread_t thread;
  int port;
  atomic_int close_started, closed;
  atomic_int inline_on_loop, offload_on_loop, offload_calls;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int slow_entered, slow_release;
  metrics_registry *metrics;
} fixture;

static void h_hello(const http_request *req, http_response *resp, void *arg) {
  fixture *f = arg;
  atomic_store(&f->inline_on_loop, pthread_equal(pthread_self(), f->thread) ? 1 : -1);
  ck_assert_int_eq(buf_appends(&resp->body, "hello\n"), 0);
}

static void h_echo(const http_request *req, http_response *resp, void *arg) {
  fixture *f = arg;
  atomic_fetch_add(&f->offload_calls, 1);
  atomic_store(&f->offload_on_loop, pthread_equal(pthread_self(), f->thread) ? 1 : -1);
  resp->content_type = "application/octet-stream";
  if (buf_append(&resp->body, req->body, req->body_len)) resp->status = 500;
}

static void h_header(const http_request *req, http_response *resp, void *arg) {
  const char *v = http_request_header(req, "x-test");
  if (buf_appendf(&resp->body, "%s|%s", v ? v : "(none)", req->query)) resp->status = 500;
  if (http_response_header(resp, "X-Reply", "yes")) resp->status = 500;
}

/* A prefix route: answers the path it was reached by. */
static void h_path(const http_request *req, http_response *resp, void *arg) {
  if (buf_appends(&resp->body, req->path)) resp->status = 500;
}

static void h_bad_status(const http_request *req, http_response *resp, void *arg) {
  resp->status = 42;
}

static void h_no_content(const http_request *req, http_response *resp, void *arg) {
  resp->status = 204;
}

static void on_closed(void *arg) {
  fixture *f = arg;
  atomic_store(&f->closed, 1);
}

/* Blocks until the test releases it: a request in flight at close time. */
static void h_slow(const http_request *req, http_response *resp, void *arg) {
  fixture *f = arg;
  pthread_mutex_lock(&f->mu);
  f->slow_entered = 1;
  pthread_cond_broadcast(&f->cv);
  while (!f->slow_release) pthread_cond_wait(&f->cv, &f->mu);
  pthread_mutex_unlock(&f->mu);
  if (buf_appends(&resp->body, "slow done\n")) resp->status = 500;
}

/* An inline handler that closes the server under its own request. */
static void h_shutdown(const http_request *req, http_response *resp, void *arg) {
  fixture *f = arg;
  http_server_close(f->srv, on_closed, f);
  uv_close((uv_handle_t *)&f->stop, NULL);
  atomic_store(&f->close_started, 1);
  if (buf_appends(&resp->body, "bye\n")) resp->status = 500;
}

static void *loop_main(void *arg) {
  fixture *f = arg;
  uv_run(&f->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void on_stop(uv_async_t *a) {
  fixture *f = a->data;
  http_server_close(f->srv, on_closed, f);
  atomic_store(&f->close_started, 1);
  uv_close((uv_handle_t *)a, NULL);
}

/* /echo takes echo_max bytes; every other route takes no body. */
static void add_routes(fixture *f, size_t echo_max) {
  ck_assert_int_eq(http_server_route(f->srv, "/hello", "GET,HEAD", 0, h_hello, f, HTTP_ROUTE_INLINE), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/echo", "POST", echo_max, h_echo, f, HTTP_ROUTE_OFFLOAD), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/header", NULL, 0, h_header, f, HTTP_ROUTE_INLINE), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/bad-status", NULL, 0, h_bad_status, f, HTTP_ROUTE_INLINE), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/no-content", NULL, 0, h_no_content, f, HTTP_ROUTE_INLINE), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/slow", "GET", 0, h_slow, f, HTTP_ROUTE_OFFLOAD), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/shutdown", "POST", 0, h_shutdown, f, HTTP_ROUTE_INLINE), 0);
  ck_assert_int_eq(http_server_route(f->srv, "/tree/", "GET", 0, h_path, f, HTTP_ROUTE_INLINE), 0);
}

#define ECHO_MAX ((size_t)8 << 20)

static void fixture_start_echo(fixture *f, const http_server_opts *o, size_t echo_max) {
  memset(f, 0, sizeof(*f));
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cv, NULL);
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  http_server_opts opts = *o;
  if (opts.metrics == NULL) {
    f->metrics = metrics_registry_new();
    opts.metrics = f->metrics;
  }
  ck_assert_int_eq(http_server_new(&f->loop, &opts, &f->srv), 0);
  add_routes(f, echo_max);
  ck_assert_int_eq(http_server_start(f->srv), 0);
  f->port = http_server_port(f->srv);
  ck_assert_int_gt(f->port, 0);
  ck_assert_int_eq(uv_async_init(&f->loop, &f->stop, on_stop), 0);
  f->stop.data = f;
  ck_assert_int_eq(pthread_create(&f->thread, NULL, loop_main, f), 0);
}

static void fixture_start(fixture *f, const http_server_opts *o) {
  fixture_start_echo(f, o, ECHO_MAX);
}

static void fixture_release_slow(fixture *f) {
  pthread_mutex_lock(&f->mu);
  f->slow_release = 1;
  pthread_cond_broadcast(&f->cv);
  pthread_mutex_unlock(&f->mu);
}

static void fixture_stop(fixture *f) {
  if (!atomic_load(&f->close_started)) uv_async_send(&f->stop);
  pthread_join(f->thread, NULL);
  ck_assert_int_eq(atomic_load(&f->closed), 1);
  /* every handle of the server was closed */
  ck_assert_int_eq(uv_loop_close(&f->loop), 0);
  metrics_registry_free(f->metrics);
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->cv);
}

static http_server_stats stats(fixture *f) {
  http_server_stats st;
  http_server_stats_get(f->srv, &st);
  return st;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits (bounded) until pred(f) holds. */
static int wait_for(int (*pred)(fixture *f), fixture *f) {
  for (int i = 0; i < 2000; i++) {
    if (pred(f)) return 1;
    sleep_ms(5);
  }
  return 0;
}

/* ---- libcurl client ---- */

static size_t collect(char *p, size_t size, size_t n, void *ud) {
  return buf_append(ud, p, size * n) ? 0 : size * n;
}

typedef struct reply {
  long status;
  CURLcode rc;
  cubit_buf body;
  cubit_buf headers;
} reply;

static CURL *client_new(void) {
  CURL *h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L); /* safety net only */
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  return h;
}

static void reply_free(reply *r) {
  buf_free(&r->body);
  buf_free(&r->headers);
}

/* Sends one request; body NULL means GET (or 'method'). */
static reply fetch(CURL *h, const char *method, const char *url, const char *body, size_t body_len,
                   struct curl_slist *headers) {
  reply r = {0};
  buf_init(&r.body, 64u << 20);
  buf_init(&r.headers, 1u << 20);
  curl_easy_setopt(h, CURLOPT_URL, url);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(h, CURLOPT_NOBODY, method && strcmp(method, "HEAD") == 0 ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method && strcmp(method, "HEAD") != 0 ? method : NULL);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  r.rc = curl_easy_perform(h);
  if (r.rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  if (r.body.data == NULL) ck_assert_int_eq(buf_appends(&r.body, ""), 0);
  if (r.headers.data == NULL) ck_assert_int_eq(buf_appends(&r.headers, ""), 0);
  return r;
}

static char *url_of(fixture *f, const char *scheme, const char *path) {
  return xasprintf("%s://127.0.0.1:%d%s", scheme, f->port, path);
}

/* GET/POST on a fresh handle; returns the status (or -curl code). */
static long quick(fixture *f, const char *method, const char *path, const char *body) {
  CURL *h = client_new();
  char *url = url_of(f, "http", path);
  reply r = fetch(h, method, url, body, body ? strlen(body) : 0, NULL);
  long st = r.rc == CURLE_OK ? r.status : -(long)r.rc;
  reply_free(&r);
  free(url);
  curl_easy_cleanup(h);
  return st;
}

static long num_connects(CURL *h) {
  long n = -1;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
  return n;
}

/* ---- raw sockets ---- */

static int raw_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct timeval tv = {10, 0}; /* safety net: a test never hangs */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

static void raw_send(int fd, const char *s) {
  size_t len = strlen(s);
  ck_assert_int_eq(send(fd, s, len, MSG_NOSIGNAL), (ssize_t)len);
}

typedef struct raw_reader {
  int fd;
  cubit_buf in;
} raw_reader;

/* Reads one response (head, and a Content-Length body); NULL on EOF or
 * timeout. The caller frees it. */
static char *raw_response(raw_reader *r) {
  for (;;) {
    char *end = r->in.data ? strstr(r->in.data, "\r\n\r\n") : NULL;
    if (end) {
      size_t head = (size_t)(end - r->in.data) + 4, body = 0;
      const char *cl = strcasestr(r->in.data, "\r\ncontent-length:");
      if (cl && cl < end) body = strtoul(cl + 17, NULL, 10);
      if (r->in.len >= head + body) {
        char *resp = xstrndup(r->in.data, head + body);
        buf_consume(&r->in, head + body);
        return resp;
      }
    }
    char tmp[4096];
    ssize_t n = recv(r->fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return NULL;
    ck_assert_int_eq(buf_append(&r->in, tmp, (size_t)n), 0);
  }
}

/* 1 when the server closed the connection (EOF or reset) before the
 * safety timeout, 0 otherwise. Discards what arrives. */
static int raw_closed(int fd) {
  char tmp[4096];
  for (;;) {
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n == 0) return 1;
    if (n < 0) return errno == ECONNRESET;
  }
}

/* ------------------------------------------------------------------ */
/* plain HTTP                                                          */

START_TEST(plain_routes) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  CURL *h = client_new();
  char *url;

  url = url_of(&f, "http", "/hello");
  reply r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body.data, "hello\n");
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "content-type: text/plain; charset=utf-8"));
  ck_assert_int_eq(atomic_load(&f.inline_on_loop), 1); /* inline handlers run on the loop thread */
  reply_free(&r);

  r = fetch(h, "HEAD", url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body.data, "");
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "content-length: 6"));
  reply_free(&r);

  r = fetch(h, NULL, url, "x", 1, NULL); /* POST to a GET,HEAD route */
  ck_assert_int_eq(r.status, 405);
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "allow: GET, HEAD\r\n"));
  /* refused before its body was read, so the connection cannot go on */
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "connection: close\r\n"));
  reply_free(&r);
  free(url);

  url = url_of(&f, "http", "/missing?x=1");
  r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 404);
  reply_free(&r);
  free(url);

  url = url_of(&f, "http", "/header?a=b");
  struct curl_slist *hdrs = curl_slist_append(NULL, "x-TeSt:   some value  ");
  r = fetch(h, NULL, url, NULL, 0, hdrs);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body.data, "some value|a=b");
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "x-reply: yes\r\n"));
  reply_free(&r);
  curl_slist_free_all(hdrs);
  free(url);

  url = url_of(&f, "http", "/bad-status");
  r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 500);
  reply_free(&r);
  free(url);

  url = url_of(&f, "http", "/no-content");
  r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 204);
  ck_assert_ptr_null(strcasestr(r.headers.data, "content-length"));
  reply_free(&r);
  free(url);

  /* all of it on two kept-alive connections: one before the POST, one after */
  ck_assert_uint_eq(stats(&f).connections_accepted, 2);
  ck_assert_uint_eq(stats(&f).requests, 7);

  /* a route ending in '/' serves the paths under it, and only those */
  static const struct {
    const char *path;
    int status;
  } under[] = {{"/tree/a/b?x=1", 200}, {"/tree/", 200}, {"/tree", 404}, {"/treex/a", 404}, {"/hello/x", 404}};
  for (size_t i = 0; i < sizeof(under) / sizeof(under[0]); i++) {
    url = url_of(&f, "http", under[i].path);
    r = fetch(h, NULL, url, NULL, 0, NULL);
    ck_assert_msg(r.status == under[i].status, "%s: %ld", under[i].path, (long)r.status);
    if (r.status == 200) ck_assert_msg(strncmp(r.body.data, under[i].path, strcspn(under[i].path, "?")) == 0, "%s", r.body.data);
    reply_free(&r);
    free(url);
  }
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

START_TEST(keep_alive_and_close) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  CURL *h = client_new();
  char *url = url_of(&f, "http", "/hello");

  reply r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_eq(num_connects(h), 1);
  reply_free(&r);
  r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_eq(num_connects(h), 0); /* reused */
  ck_assert_ptr_null(strcasestr(r.headers.data, "connection: close"));
  reply_free(&r);
  ck_assert_uint_eq(stats(&f).connections_accepted, 1);

  /* the client asks to close: the server says so and closes */
  struct curl_slist *hdrs = curl_slist_append(NULL, "Connection: close");
  r = fetch(h, NULL, url, NULL, 0, hdrs);
  ck_assert_int_eq(r.status, 200);
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "connection: close"));
  reply_free(&r);
  curl_slist_free_all(hdrs);
  r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_int_eq(num_connects(h), 1);
  reply_free(&r);
  ck_assert_uint_eq(stats(&f).connections_accepted, 2);

  free(url);
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

typedef struct upload {
  const char *data;
  size_t len, off;
} upload;

static size_t read_upload(char *buf, size_t size, size_t n, void *ud) {
  upload *u = ud;
  size_t left = u->len - u->off, want = size * n;
  if (want > 1000) want = 1000; /* several chunks */
  if (want > left) want = left;
  memcpy(buf, u->data + u->off, want);
  u->off += want;
  return want;
}

/* POST with a chunked body of 'len' bytes; returns the reply. */
static reply post_chunked(CURL *h, const char *url, const char *data, size_t len) {
  upload u = {data, len, 0};
  struct curl_slist *hdrs = curl_slist_append(NULL, "Transfer-Encoding: chunked");
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &u);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
  reply r = {0};
  buf_init(&r.body, 64u << 20);
  buf_init(&r.headers, 1u << 20);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  r.rc = curl_easy_perform(h);
  if (r.rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  if (r.body.data == NULL) ck_assert_int_eq(buf_appends(&r.body, ""), 0);
  curl_slist_free_all(hdrs);
  return r;
}

static char *pattern(size_t len) {
  char *p = xmalloc(len + 1);
  for (size_t i = 0; i < len; i++) p[i] = (char)('a' + (i * 7 + i / 13) % 26);
  p[len] = '\0';
  return p;
}

START_TEST(offloaded_echo) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  char *url = url_of(&f, "http", "/echo");
  size_t len = 300000;
  char *body = pattern(len);

  CURL *h = client_new();
  reply r = fetch(h, NULL, url, body, len, NULL);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body.len, len);
  ck_assert(memcmp(r.body.data, body, len) == 0);
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "content-type: application/octet-stream"));
  ck_assert_int_eq(atomic_load(&f.offload_on_loop), -1); /* ran on a threadpool thread */
  reply_free(&r);
  curl_easy_cleanup(h);

  h = client_new();
  r = post_chunked(h, url, body, 5000);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body.len, 5000);
  ck_assert(memcmp(r.body.data, body, 5000) == 0);
  reply_free(&r);
  curl_easy_cleanup(h);

  ck_assert_int_eq(atomic_load(&f.offload_calls), 2);
  free(body);
  free(url);
  fixture_stop(&f);
}
END_TEST

START_TEST(body_over_cap) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start_echo(&f, &o, 1024);
  char *url = url_of(&f, "http", "/echo");
  char *body = pattern(4096);
  CURL *h = client_new();

  reply r = fetch(h, NULL, url, body, 1024, NULL); /* exactly the cap */
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body.len, 1024);
  reply_free(&r);

  r = fetch(h, NULL, url, body, 4096, NULL);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 413);
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "connection: close"));
  reply_free(&r);
  curl_easy_cleanup(h);

  h = client_new();
  r = post_chunked(h, url, body, 4096);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 413);
  reply_free(&r);
  curl_easy_cleanup(h);

  ck_assert_int_eq(atomic_load(&f.offload_calls), 1); /* oversized bodies never reach the handler */
  free(body);
  free(url);
  fixture_stop(&f);
}
END_TEST

START_TEST(header_caps) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.max_headers = 10;
  o.max_header_bytes = 1024;
  fixture f;
  fixture_start(&f, &o);
  char *url = url_of(&f, "http", "/hello");
  CURL *h = client_new();

  struct curl_slist *few = NULL, *many = NULL, *big = NULL;
  for (int i = 0; i < 20; i++) {
    char line[32];
    snprintf(line, sizeof(line), "X-H%d: %d", i, i);
    if (i < 3) few = curl_slist_append(few, line);
    many = curl_slist_append(many, line);
  }
  char *long_value = pattern(2000);
  char *big_line = xasprintf("X-Big: %s", long_value);
  big = curl_slist_append(big, big_line);

  reply r = fetch(h, NULL, url, NULL, 0, few);
  ck_assert_int_eq(r.status, 200);
  reply_free(&r);
  r = fetch(h, NULL, url, NULL, 0, many);
  ck_assert_int_eq(r.status, 431);
  reply_free(&r);
  r = fetch(h, NULL, url, NULL, 0, big);
  ck_assert_int_eq(r.status, 431);
  reply_free(&r);
  char *long_url = xasprintf("http://127.0.0.1:%d/%s", f.port, long_value);
  r = fetch(h, NULL, long_url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 414);
  reply_free(&r);

  curl_slist_free_all(few);
  curl_slist_free_all(many);
  curl_slist_free_all(big);
  free(long_url);
  free(big_line);
  free(long_value);
  free(url);
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

typedef struct raw_case {
  const char *name;
  const char *request;
  const char *status_line; /* prefix of the response */
  int closes;              /* the server closes after answering */
  const char *contains;    /* in the response, when set */
} raw_case;

static const raw_case raw_cases[] = {
    {"get", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\n", 0, NULL},
    {"post without length", "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 411 Length Required\r\n", 1, NULL},
    {"garbage", "BLAH\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n", 1, NULL},
    {"bad content-length", "GET /hello HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "HTTP/1.1 400 ", 1, NULL},
    {"unknown transfer-encoding", "POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
     "HTTP/1.1 501 Not Implemented\r\n", 1, NULL},
    {"http/1.0", "GET /hello HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK\r\n", 1, "\r\nConnection: close\r\n"},
    {"http/1.0 keep-alive", "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "HTTP/1.1 200 OK\r\n", 0,
     "\r\nConnection: keep-alive\r\n"},
    {"connection close", "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 OK\r\n", 1,
     "\r\nConnection: close\r\n"},
    {"method not allowed keeps the connection", "DELETE /hello HTTP/1.1\r\n\r\n",
     "HTTP/1.1 405 Method Not Allowed\r\n", 0, NULL},
    {"websocket upgrade is answered, then closed",
     "GET /hello HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "HTTP/1.1 200 OK\r\n", 1, NULL},
};

START_TEST(raw_protocol_table) {
  const raw_case *c = &raw_cases[_i];
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  raw_reader rr = {raw_connect(f.port), {0}};
  buf_init(&rr.in, 1u << 20);
  raw_send(rr.fd, c->request);
  char *resp = raw_response(&rr);
  ck_assert_msg(resp != NULL, "%s: no response", c->name);
  ck_assert_msg(strncmp(resp, c->status_line, strlen(c->status_line)) == 0, "%s: got %s", c->name, resp);
  if (c->contains) ck_assert_msg(strstr(resp, c->contains) != NULL, "%s: got %s", c->name, resp);
  free(resp);
  if (c->closes) {
    ck_assert_msg(raw_closed(rr.fd), "%s: connection left open", c->name);
  } else {
    raw_send(rr.fd, "GET /hello HTTP/1.1\r\n\r\n");
    resp = raw_response(&rr);
    ck_assert_msg(resp && strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s: second request failed", c->name);
    free(resp);
  }
  close(rr.fd);
  buf_free(&rr.in);
  fixture_stop(&f);
}
END_TEST

START_TEST(pipelining_and_expect_continue) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start_echo(&f, &o, 100);
  raw_reader rr = {raw_connect(f.port), {0}};
  buf_init(&rr.in, 1u << 20);

  /* three requests in one segment, answered in order */
  raw_send(rr.fd, "GET /missing HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                  "GET /hello HTTP/1.1\r\n\r\n");
  char *a = raw_response(&rr), *b = raw_response(&rr), *c = raw_response(&rr);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_ptr_nonnull(c);
  ck_assert(strncmp(a, "HTTP/1.1 404 ", 13) == 0);
  ck_assert(strncmp(b, "HTTP/1.1 200 ", 13) == 0);
  ck_assert_ptr_nonnull(strstr(b, "\r\n\r\nabc"));
  ck_assert(strncmp(c, "HTTP/1.1 200 ", 13) == 0);
  ck_assert_ptr_nonnull(strstr(c, "\r\n\r\nhello\n"));
  free(a);
  free(b);
  free(c);

  /* the client waits for 100 Continue before sending the body */
  raw_send(rr.fd, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  a = raw_response(&rr);
  ck_assert_str_eq(a, "HTTP/1.1 100 Continue\r\n\r\n");
  raw_send(rr.fd, "wxyz");
  b = raw_response(&rr);
  ck_assert(strncmp(b, "HTTP/1.1 200 ", 13) == 0);
  ck_assert_ptr_nonnull(strstr(b, "\r\n\r\nwxyz"));
  free(a);
  free(b);

  /* an announced body over the cap gets 413 instead of 100 */
  raw_send(rr.fd, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
  a = raw_response(&rr);
  ck_assert(strncmp(a, "HTTP/1.1 413 ", 13) == 0);
  free(a);
  ck_assert(raw_closed(rr.fd));

  close(rr.fd);
  buf_free(&rr.in);
  fixture_stop(&f);
}
END_TEST

/* 1 once the server has closed fd (EOF or reset), without waiting. */
static int raw_is_closed_now(int fd) {
  char tmp[256];
  ssize_t n = recv(fd, tmp, sizeof(tmp), MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

START_TEST(slow_clients_closed) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.request_timeout_ms = 300;
  o.idle_timeout_ms = 600000; /* so only the request deadline can close */
  fixture f;
  fixture_start(&f, &o);

  /* a request that never completes */
  int slow = raw_connect(f.port);
  raw_send(slow, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  /* a connection that never sends anything */
  int silent = raw_connect(f.port);
  /* a kept-alive connection whose second request never completes */
  raw_reader kept = {raw_connect(f.port), {0}};
  buf_init(&kept.in, 1u << 20);
  raw_send(kept.fd, "GET /hello HTTP/1.1\r\n\r\n");
  char *resp = raw_response(&kept);
  ck_assert_ptr_nonnull(resp);
  ck_assert(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
  free(resp);
  raw_send(kept.fd, "GET /hello HTTP/1.1\r\n");

  char tmp[64];
  ck_assert_int_eq(recv(slow, tmp, sizeof(tmp), 0), 0); /* closed without a response */
  ck_assert_int_eq(recv(silent, tmp, sizeof(tmp), 0), 0);
  ck_assert(raw_closed(kept.fd));
  close(slow);
  close(silent);
  close(kept.fd);
  buf_free(&kept.in);

  /* trickling bytes does not extend the deadline: it runs from the first
   * byte, so the connection is closed long before 60 x 50 ms */
  int trickle = raw_connect(f.port);
  raw_send(trickle, "GET /hello HTTP/1.1\r\nX-Trickle: ");
  int closed = 0;
  for (int i = 0; i < 60 && !closed; i++) {
    sleep_ms(50);
    closed = raw_is_closed_now(trickle) || send(trickle, "a", 1, MSG_NOSIGNAL) < 0;
  }
  ck_assert(closed);
  close(trickle);

  /* the server itself is fine */
  ck_assert_int_eq(quick(&f, NULL, "/hello", NULL), 200);
  fixture_stop(&f);
}
END_TEST

START_TEST(idle_clients_closed) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.request_timeout_ms = 600000; /* so only the idle timeout can close */
  o.idle_timeout_ms = 300;
  fixture f;
  fixture_start(&f, &o);
  raw_reader idle = {raw_connect(f.port), {0}};
  buf_init(&idle.in, 1u << 20);
  raw_send(idle.fd, "GET /hello HTTP/1.1\r\n\r\n");
  char *resp = raw_response(&idle);
  ck_assert_ptr_nonnull(resp);
  ck_assert(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
  free(resp);
  ck_assert(raw_closed(idle.fd));
  close(idle.fd);
  buf_free(&idle.in);
  fixture_stop(&f);
}
END_TEST

typedef struct get_job {
  fixture *f;
  const char *path;
  long status;
  char *body;
  atomic_int done;
  pthread_t thread;
} get_job;

static void *get_job_main(void *arg) {
  get_job *j = arg;
  CURL *h = client_new();
  char *url = url_of(j->f, "http", j->path);
  reply r = fetch(h, NULL, url, NULL, 0, NULL);
  j->status = r.rc == CURLE_OK ? r.status : -(long)r.rc;
  j->body = xstrdup(r.body.data);
  reply_free(&r);
  free(url);
  curl_easy_cleanup(h);
  atomic_store(&j->done, 1);
  return NULL;
}

static int one_open(fixture *f) {
  return stats(f).connections_open == 1;
}

START_TEST(max_connections_wait_in_backlog) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.max_connections = 1;
  fixture f;
  fixture_start(&f, &o);
  int first = raw_connect(f.port);
  raw_send(first, "GET /hello HTTP/1.1\r\n");
  ck_assert(wait_for(one_open, &f));
  /* accepted is not yet read: until the loop has read the partial request
   * the first connection counts as idle and the newcomer would evict it */
  sleep_ms(300);

  get_job j = {.f = &f, .path = "/hello"};
  pthread_create(&j.thread, NULL, get_job_main, &j);
  sleep_ms(300);
  /* the second client is connected at the TCP level but not served */
  ck_assert_int_eq(atomic_load(&j.done), 0);
  ck_assert_uint_eq(stats(&f).connections_accepted, 1);
  ck_assert_uint_eq(stats(&f).connections_evicted, 0);

  close(first);
  pthread_join(j.thread, NULL);
  ck_assert_int_eq(j.status, 200);
  ck_assert_uint_eq(stats(&f).connections_accepted, 2);
  free(j.body);
  fixture_stop(&f);
}
END_TEST

#define CONC_THREADS 50
#define CONC_REQUESTS 20

typedef struct conc_job {
  fixture *f;
  int id;
  int ok;
  pthread_t thread;
} conc_job;

static void *conc_main(void *arg) {
  conc_job *j = arg;
  CURL *h = client_new();
  char *hello = url_of(j->f, "http", "/hello"), *echo = url_of(j->f, "http", "/echo");
  for (int i = 0; i < CONC_REQUESTS; i++) {
    if (i % 2) {
      char body[64];
      snprintf(body, sizeof(body), "thread %d request %d", j->id, i);
      reply r = fetch(h, NULL, echo, body, strlen(body), NULL);
      if (r.rc == CURLE_OK && r.status == 200 && strcmp(r.body.data, body) == 0) j->ok++;
      reply_free(&r);
    } else {
      reply r = fetch(h, NULL, hello, NULL, 0, NULL);
      if (r.rc == CURLE_OK && r.status == 200 && strcmp(r.body.data, "hello\n") == 0) j->ok++;
      reply_free(&r);
    }
  }
  free(hello);
  free(echo);
  curl_easy_cleanup(h);
  return NULL;
}

START_TEST(many_concurrent_clients) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  conc_job jobs[CONC_THREADS];
  for (int i = 0; i < CONC_THREADS; i++) {
    jobs[i] = (conc_job){.f = &f, .id = i};
    ck_assert_int_eq(pthread_create(&jobs[i].thread, NULL, conc_main, &jobs[i]), 0);
  }
  int ok = 0;
  for (int i = 0; i < CONC_THREADS; i++) {
    pthread_join(jobs[i].thread, NULL);
    ok += jobs[i].ok;
  }
  ck_assert_int_eq(ok, CONC_THREADS * CONC_REQUESTS);
  ck_assert_uint_eq(stats(&f).requests, CONC_THREADS * CONC_REQUESTS);
  metric *m = metrics_counter(f.metrics, "cubit_http_requests_total", "", "path,code");
  ck_assert(metric_value(m, "/hello", "200") == CONC_THREADS * CONC_REQUESTS / 2);
  ck_assert(metric_value(m, "/echo", "200") == CONC_THREADS * CONC_REQUESTS / 2);
  fixture_stop(&f);
}
END_TEST

static int slow_entered(fixture *f) {
  pthread_mutex_lock(&f->mu);
  int e = f->slow_entered;
  pthread_mutex_unlock(&f->mu);
  return e;
}

static int close_started(fixture *f) {
  return atomic_load(&f->close_started);
}

START_TEST(close_with_inflight_offloaded_request) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  /* an idle kept-alive connection and one in the middle of a request */
  raw_reader idle = {raw_connect(f.port), {0}};
  buf_init(&idle.in, 1u << 20);
  raw_send(idle.fd, "GET /hello HTTP/1.1\r\n\r\n");
  char *resp = raw_response(&idle);
  ck_assert_ptr_nonnull(resp);
  free(resp);
  int partial = raw_connect(f.port);
  raw_send(partial, "GET /hel");

  get_job j = {.f = &f, .path = "/slow"};
  pthread_create(&j.thread, NULL, get_job_main, &j);
  ck_assert(wait_for(slow_entered, &f));

  uv_async_send(&f.stop);
  ck_assert(wait_for(close_started, &f));
  ck_assert(raw_closed(idle.fd));
  ck_assert(raw_closed(partial));
  ck_assert_int_eq(atomic_load(&f.closed), 0); /* waits for the handler */

  fixture_release_slow(&f);
  pthread_join(j.thread, NULL);
  ck_assert_int_eq(j.status, 200); /* the request in flight got its answer */
  ck_assert_str_eq(j.body, "slow done\n");
  free(j.body);
  close(idle.fd);
  close(partial);
  buf_free(&idle.in);
  fixture_stop(&f);
}
END_TEST

START_TEST(handler_closes_server) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  CURL *h = client_new();
  char *url = url_of(&f, "http", "/shutdown");
  reply r = fetch(h, NULL, url, "", 0, NULL);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body.data, "bye\n");
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "connection: close"));
  reply_free(&r);
  free(url);
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

static void *abandon_main(void *arg) {
  get_job *j = arg;
  CURL *h = client_new();
  char *url = url_of(j->f, "http", j->path);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 200L);
  reply r = fetch(h, NULL, url, NULL, 0, NULL);
  j->status = r.rc == CURLE_OK ? r.status : -(long)r.rc;
  reply_free(&r);
  free(url);
  curl_easy_cleanup(h);
  return NULL;
}

START_TEST(close_after_client_left_inflight_request) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  get_job j = {.f = &f, .path = "/slow"};
  pthread_create(&j.thread, NULL, abandon_main, &j);
  ck_assert(wait_for(slow_entered, &f));
  pthread_join(j.thread, NULL);
  ck_assert_int_eq(j.status, -(long)CURLE_OPERATION_TIMEDOUT);
  uv_async_send(&f.stop);
  ck_assert(wait_for(close_started, &f));
  fixture_release_slow(&f); /* the response goes to a closed socket */
  fixture_stop(&f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* limits: bodies by route, idle connections, clients                  */

/* A connection from a given loopback source address (127.0.0.x). */
static int raw_connect_from(int port, const char *src) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  struct sockaddr_in from = {0};
  from.sin_family = AF_INET;
  ck_assert_int_eq(inet_pton(AF_INET, src, &from.sin_addr), 1);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  return fd;
}

/* Sends a request head, then reads the answer without sending the body:
 * returns the response (caller frees) or NULL when none came. */
static char *answer_before_body(int port, const char *head) {
  raw_reader rr = {raw_connect(port), {0}};
  buf_init(&rr.in, 1u << 20);
  raw_send(rr.fd, head);
  char *resp = raw_response(&rr);
  if (resp) ck_assert_msg(raw_closed(rr.fd), "the connection stays open after %.40s", resp);
  close(rr.fd);
  buf_free(&rr.in);
  return resp;
}

typedef struct early_case {
  const char *name;
  const char *head;   /* announces a body that is never sent */
  const char *status; /* the answer that comes at once */
  const char *contains;
} early_case;

static const early_case early_cases[] = {
    {"GET with a 7 MiB body", "GET /hello HTTP/1.1\r\nContent-Length: 7340032\r\n\r\n", "HTTP/1.1 413 ", NULL},
    {"HEAD with a body", "HEAD /hello HTTP/1.1\r\nContent-Length: 10\r\n\r\n", "HTTP/1.1 413 ", NULL},
    {"chunked GET", "GET /hello HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello", "HTTP/1.1 413 ", NULL},
    {"GET with a body on a route of any method", "GET /header HTTP/1.1\r\nContent-Length: 100\r\n\r\n",
     "HTTP/1.1 413 ", NULL},
    {"POST over the route's cap", "POST /echo HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", "HTTP/1.1 413 ", NULL},
    {"POST to a route taking no body", "POST /shutdown HTTP/1.1\r\nContent-Length: 7340032\r\n\r\n", "HTTP/1.1 413 ",
     NULL},
    {"POST to an unknown path", "POST /nowhere HTTP/1.1\r\nContent-Length: 7340032\r\n\r\n", "HTTP/1.1 404 ", NULL},
    {"PUT to a POST route", "PUT /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n", "HTTP/1.1 405 ", "\r\nAllow: POST\r\n"},
    {"chunked POST to an unknown path", "POST /nowhere HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
     "HTTP/1.1 404 ", NULL},
};

/* A body the route does not take is refused as soon as the headers are in:
 * the answer comes without the body being sent, the connection is closed
 * (its body is never read) and no byte of body is ever held. */
START_TEST(bodies_refused_before_read) {
  const early_case *c = &early_cases[_i];
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start_echo(&f, &o, 1024);
  char *resp = answer_before_body(f.port, c->head);
  ck_assert_msg(resp != NULL, "%s: no answer before the body", c->name);
  ck_assert_msg(strncmp(resp, c->status, strlen(c->status)) == 0, "%s: got %s", c->name, resp);
  ck_assert_msg(strcasestr(resp, "\r\nconnection: close\r\n") != NULL, "%s: %s", c->name, resp);
  if (c->contains) ck_assert_msg(strstr(resp, c->contains) != NULL, "%s: got %s", c->name, resp);
  free(resp);
  ck_assert_uint_eq(stats(&f).body_bytes_peak, 0);
  ck_assert_int_eq(atomic_load(&f.offload_calls), 0);
  fixture_stop(&f);
}
END_TEST

/* A GET whose 7 MiB body is really sent: answered 413 and closed, with
 * nothing buffered; the same bytes as a POST to /echo are read whole. */
START_TEST(get_with_big_body_costs_nothing) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  size_t len = 7u << 20;
  char *body = pattern(len);
  CURL *h = client_new();
  char *url = url_of(&f, "http", "/hello");
  reply r = fetch(h, "GET", url, body, len, NULL);
  /* curl may see the close before it has sent everything */
  ck_assert_msg(r.rc == CURLE_OK || r.rc == CURLE_SEND_ERROR, "curl: %s", curl_easy_strerror(r.rc));
  if (r.rc == CURLE_OK) ck_assert_int_eq(r.status, 413);
  reply_free(&r);
  free(url);
  ck_assert_uint_eq(stats(&f).body_bytes_peak, 0);

  url = url_of(&f, "http", "/echo");
  r = fetch(h, NULL, url, body, len, NULL);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body.len, len);
  reply_free(&r);
  ck_assert_uint_eq(stats(&f).body_bytes_peak, len);
  ck_assert_uint_eq(stats(&f).body_bytes, 0); /* released with the request */
  free(url);
  free(body);
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

static int holds_800k(fixture *f) {
  return stats(f).body_bytes >= 800u << 10;
}

/* Bodies held at once are capped over all connections: past the budget a
 * request is answered 503 with Retry-After, and it passes once the held
 * body is gone. */
START_TEST(body_budget_shared_by_connections) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.max_body_buffered = 1u << 20;
  fixture f;
  fixture_start(&f, &o);
  raw_reader held = {raw_connect(f.port), {0}};
  buf_init(&held.in, 1u << 20);
  size_t announced = 900u << 10, sent = 800u << 10;
  char *head = xasprintf("POST /echo HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", announced);
  raw_send(held.fd, head);
  free(head);
  char *part = pattern(announced);
  ck_assert_int_eq(send(held.fd, part, sent, MSG_NOSIGNAL), (ssize_t)sent);
  ck_assert(wait_for(holds_800k, &f));

  CURL *h = client_new();
  char *url = url_of(&f, "http", "/echo");
  char *body = pattern(400u << 10);
  reply r = fetch(h, NULL, url, body, 400u << 10, NULL);
  ck_assert_int_eq(r.rc, CURLE_OK);
  ck_assert_int_eq(r.status, 503);
  ck_assert_ptr_nonnull(strcasestr(r.headers.data, "retry-after: 1\r\n"));
  reply_free(&r);

  /* the held request completes; then there is room again */
  ck_assert_int_eq(send(held.fd, part + sent, announced - sent, MSG_NOSIGNAL), (ssize_t)(announced - sent));
  char *resp = raw_response(&held);
  ck_assert_ptr_nonnull(resp);
  ck_assert_msg(strncmp(resp, "HTTP/1.1 200 ", 13) == 0, "%.200s", resp);
  free(resp);
  ck_assert_uint_eq(stats(&f).body_bytes, 0);
  r = fetch(h, NULL, url, body, 400u << 10, NULL);
  ck_assert_int_eq(r.status, 200);
  reply_free(&r);
  metric *shed = metrics_counter(f.metrics, "cubit_http_connections_shed_total", "", "reason");
  ck_assert(metric_value(shed, "body_budget") == 1);

  close(held.fd);
  buf_free(&held.in);
  free(body);
  free(part);
  free(url);
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

#define IDLE_CONNS 32

static int all_open(fixture *f) {
  return stats(f).connections_open == IDLE_CONNS;
}

/* At max_connections, idle clients (kept alive after a request, or never
 * sending one) cannot lock a new client out: the one idle longest is closed
 * and the newcomer served at once. Busy connections are never closed. */
START_TEST(idle_evicted_at_capacity) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.max_connections = IDLE_CONNS;
  o.request_timeout_ms = 600000; /* so no timeout closes anything here */
  o.idle_timeout_ms = 600000;
  fixture f;
  fixture_start(&f, &o);
  int fds[IDLE_CONNS];
  raw_reader rr[IDLE_CONNS];
  for (int i = 0; i < IDLE_CONNS; i++) {
    rr[i] = (raw_reader){raw_connect(f.port), {0}};
    buf_init(&rr[i].in, 1u << 20);
    fds[i] = rr[i].fd;
    if (i % 2) { /* kept alive after one request */
      raw_send(fds[i], "GET /hello HTTP/1.1\r\n\r\n");
      char *resp = raw_response(&rr[i]);
      ck_assert_ptr_nonnull(resp);
      free(resp);
    }
    sleep_ms(5); /* distinct idle times */
  }
  /* the last one is busy: half a request */
  raw_send(fds[IDLE_CONNS - 1], "GET /hello HTTP/1.1\r\nX-Half: ");
  ck_assert(wait_for(all_open, &f));

  /* each newcomer stays connected (kept alive), so each round is at capacity */
  CURL *newcomers[3];
  char *url = url_of(&f, "http", "/hello");
  for (int round = 0; round < 3; round++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    newcomers[round] = client_new();
    reply r = fetch(newcomers[round], NULL, url, NULL, 0, NULL);
    ck_assert_int_eq(r.status, 200);
    reply_free(&r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_msg(took < 5, "a new client waited %.1f s", took);
  }
  /* the oldest idle ones went first, in order; the busy one stays */
  ck_assert(raw_closed(fds[0]));
  ck_assert(raw_closed(fds[1]));
  ck_assert(raw_closed(fds[2]));
  ck_assert(!raw_is_closed_now(fds[IDLE_CONNS - 2]));
  raw_send(fds[IDLE_CONNS - 1], "x\r\n\r\n");
  char *resp = raw_response(&rr[IDLE_CONNS - 1]);
  ck_assert_msg(resp && strncmp(resp, "HTTP/1.1 200 ", 13) == 0, "the busy connection was not served");
  free(resp);
  ck_assert_uint_ge(stats(&f).connections_evicted, 3);
  metric *shed = metrics_counter(f.metrics, "cubit_http_connections_shed_total", "", "reason");
  ck_assert(metric_value(shed, "idle_evicted") >= 3);
  for (int i = 0; i < 3; i++) curl_easy_cleanup(newcomers[i]);
  free(url);
  for (int i = 0; i < IDLE_CONNS; i++) {
    close(fds[i]);
    buf_free(&rr[i].in);
  }
  fixture_stop(&f);
}
END_TEST

static int three_open(fixture *f) {
  return stats(f).connections_open == 3;
}

/* One client holds at most max_connections_per_client: past it its own
 * idle connection makes room, or the newcomer is closed when all are busy.
 * Another client is not affected. */
START_TEST(per_client_cap) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.max_connections_per_client = 3;
  o.request_timeout_ms = 600000;
  fixture f;
  fixture_start(&f, &o);
  raw_reader rr[3];
  for (int i = 0; i < 3; i++) {
    rr[i] = (raw_reader){raw_connect(f.port), {0}};
    buf_init(&rr[i].in, 1u << 20);
    raw_send(rr[i].fd, "GET /hello HTTP/1.1\r\nX-Busy: "); /* all busy */
  }
  ck_assert(wait_for(three_open, &f));
  int fourth = raw_connect(f.port);
  ck_assert(raw_closed(fourth)); /* closed without an answer */
  close(fourth);
  ck_assert_uint_eq(stats(&f).connections_refused, 1);

  /* another address is its own client */
  raw_reader other = {raw_connect_from(f.port, "127.0.0.2"), {0}};
  buf_init(&other.in, 1u << 20);
  raw_send(other.fd, "GET /hello HTTP/1.1\r\n\r\n");
  char *resp = raw_response(&other);
  ck_assert_msg(resp && strncmp(resp, "HTTP/1.1 200 ", 13) == 0, "127.0.0.2 was refused");
  free(resp);

  /* one of the three finishes its request and idles: it makes room */
  raw_send(rr[0].fd, "x\r\n\r\n");
  resp = raw_response(&rr[0]);
  ck_assert_ptr_nonnull(resp);
  free(resp);
  ck_assert_int_eq(quick(&f, NULL, "/hello", NULL), 200);
  ck_assert(raw_closed(rr[0].fd));
  ck_assert_uint_eq(stats(&f).connections_evicted, 1);
  ck_assert_uint_eq(stats(&f).connections_refused, 1);
  metric *shed = metrics_counter(f.metrics, "cubit_http_connections_shed_total", "", "reason");
  ck_assert(metric_value(shed, "client_limit") == 1);
  ck_assert(metric_value(shed, "client_idle_evicted") == 1);
  for (int i = 0; i < 3; i++) {
    close(rr[i].fd);
    buf_free(&rr[i].in);
  }
  close(other.fd);
  buf_free(&other.in);
  fixture_stop(&f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* TLS                                                                 */

/* A self-signed certificate for 127.0.0.1 that is its own CA. */
static void write_cert_pair(const char *cert_path, const char *key_path, const char *cn, long serial) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  ck_assert_ptr_nonnull(key);
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  static const char *const exts[][2] = {
      {"basicConstraints", "critical,CA:TRUE"},
      {"keyUsage", "critical,digitalSignature,keyCertSign"},
      {"subjectKeyIdentifier", "hash"},
      {"subjectAltName", "IP:127.0.0.1"},
  };
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
    X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &v3, exts[i][0], exts[i][1]);
    ck_assert_ptr_nonnull(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }
  ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
  FILE *fc = fopen(cert_path, "w");
  ck_assert_ptr_nonnull(fc);
  PEM_write_X509(fc, x);
  fclose(fc);
  FILE *fk = fopen(key_path, "w");
  ck_assert_ptr_nonnull(fk);
  PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL);
  fclose(fk);
  X509_free(x);
  EVP_PKEY_free(key);
}

typedef struct tls_dir {
  char *dir, *cert, *key;
} tls_dir;

static tls_dir tls_dir_new(const char *cn) {
  tls_dir d;
  d.dir = testutil_tmpdir();
  d.cert = xasprintf("%s/tls.crt", d.dir);
  d.key = xasprintf("%s/tls.key", d.dir);
  write_cert_pair(d.cert, d.key, cn, 1);
  return d;
}

static void tls_dir_free(tls_dir *d) {
  char *cmd = xasprintf("rm -rf '%s'", d->dir);
  ck_assert_int_eq(system(cmd), 0);
  free(cmd);
  free(d->dir);
  free(d->cert);
  free(d->key);
}

typedef struct tls_reply {
  CURLcode rc;
  long status;
  char subject[256];
} tls_reply;

/* GET over a new TLS connection, trusting only 'ca'. */
static tls_reply tls_get(fixture *f, const char *ca, const char *path) {
  tls_reply t = {0};
  CURL *h = client_new();
  char *url = url_of(f, "https", path);
  cubit_buf body;
  buf_init(&body, 1u << 20);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CAINFO, ca);
  curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
  curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  t.rc = curl_easy_perform(h);
  if (t.rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.status);
    struct curl_certinfo *ci = NULL;
    curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci);
    if (ci && ci->num_of_certs > 0)
      for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
        if (strncmp(s->data, "Subject:", 8) == 0) snprintf(t.subject, sizeof(t.subject), "%s", s->data + 8);
  }
  buf_free(&body);
  free(url);
  curl_easy_cleanup(h);
  return t;
}

START_TEST(tls_get_and_post) {
  tls_dir d = tls_dir_new("cubit-test-a");
  tls_dir other = tls_dir_new("cubit-test-other");
  http_server_opts o;
  http_server_opts_init(&o);
  o.cert_file = d.cert;
  o.key_file = d.key;
  fixture f;
  fixture_start(&f, &o);

  tls_reply t = tls_get(&f, d.cert, "/hello");
  ck_assert_int_eq(t.rc, CURLE_OK);
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-a"));
  /* a client trusting another CA refuses the server */
  t = tls_get(&f, other.cert, "/hello");
  ck_assert_int_eq(t.rc, CURLE_PEER_FAILED_VERIFICATION);

  /* keep-alive and a large offloaded echo over TLS */
  CURL *h = client_new();
  curl_easy_setopt(h, CURLOPT_CAINFO, d.cert);
  char *url = url_of(&f, "https", "/echo");
  size_t len = 1u << 20;
  char *body = pattern(len);
  for (int i = 0; i < 2; i++) {
    reply r = fetch(h, NULL, url, body, len, NULL);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body.len, len);
    ck_assert(memcmp(r.body.data, body, len) == 0);
    ck_assert_int_eq(num_connects(h), i == 0 ? 1 : 0);
    long version = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    ck_assert_int_eq(version, CURL_HTTP_VERSION_1_1);
    reply_free(&r);
  }
  free(body);
  free(url);
  curl_easy_cleanup(h);
  fixture_stop(&f);
  tls_dir_free(&d);
  tls_dir_free(&other);
}
END_TEST

/* A raw OpenSSL client allowing every old protocol version up to 'max'.
 * Returns 1 when the handshake succeeds; *reason is the library's reason
 * code for a failure. */
static int old_client_handshake(int port, int max_version, int *reason) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  int fd = raw_connect(port);
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  ERR_clear_error();
  int ok = SSL_connect(ssl) == 1;
  *reason = ok ? 0 : ERR_GET_REASON(ERR_peek_last_error());
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return ok;
}

START_TEST(tls_old_versions_rejected) {
  tls_dir d = tls_dir_new("cubit-test-a");
  http_server_opts o;
  http_server_opts_init(&o);
  o.cert_file = d.cert;
  o.key_file = d.key;
  fixture f;
  fixture_start(&f, &o);
  ck_assert_int_eq(http_server_tls_min_version(f.srv), TLS1_2_VERSION);

  int reason = 0;
  ck_assert_int_eq(old_client_handshake(f.port, TLS1_2_VERSION, &reason), 1); /* the client works */
  ck_assert_int_eq(old_client_handshake(f.port, TLS1_1_VERSION, &reason), 0);
  /* Either the server refused the version with an alert, or this OpenSSL
   * cannot even offer TLS 1.1; then the min version above is the proof. */
  ck_assert_msg(reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION || reason == SSL_R_NO_PROTOCOLS_AVAILABLE,
                "unexpected failure reason %d", reason);

  /* and curl, asked for TLS 1.1 at most, fails */
  CURL *h = client_new();
  char *url = url_of(&f, "https", "/hello");
  curl_easy_setopt(h, CURLOPT_CAINFO, d.cert);
  curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_0 | CURL_SSLVERSION_MAX_TLSv1_1));
  reply r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_ne(r.rc, CURLE_OK);
  reply_free(&r);
  free(url);
  curl_easy_cleanup(h);

  /* and a client speaking plain HTTP to the TLS port gets nowhere */
  raw_reader rr = {raw_connect(f.port), {0}};
  buf_init(&rr.in, 1u << 20);
  raw_send(rr.fd, "GET /hello HTTP/1.1\r\n\r\n");
  ck_assert(raw_closed(rr.fd));
  close(rr.fd);
  buf_free(&rr.in);
  fixture_stop(&f);
  tls_dir_free(&d);
}
END_TEST

/* Replaces the served pair the way a Secret volume does: new files
 * renamed over the old names. */
static void swap_pair(const tls_dir *d, const char *cert_src, const char *key_src) {
  char *tmp_cert = xasprintf("%s/.tmp.crt", d->dir), *tmp_key = xasprintf("%s/.tmp.key", d->dir);
  char *cmd = xasprintf("cp '%s' '%s' && cp '%s' '%s'", cert_src, tmp_cert, key_src, tmp_key);
  ck_assert_int_eq(system(cmd), 0);
  ck_assert_int_eq(rename(tmp_cert, d->cert), 0);
  ck_assert_int_eq(rename(tmp_key, d->key), 0);
  free(cmd);
  free(tmp_cert);
  free(tmp_key);
}

START_TEST(tls_certificate_reload) {
  tls_dir d = tls_dir_new("cubit-test-a");
  char *a_cert = xasprintf("%s/a.crt", d.dir);
  char *b_cert = xasprintf("%s/b.crt", d.dir), *b_key = xasprintf("%s/b.key", d.dir);
  char *c_cert = xasprintf("%s/c.crt", d.dir), *c_key = xasprintf("%s/c.key", d.dir);
  char *junk = xasprintf("%s/junk.crt", d.dir);
  char *cmd = xasprintf("cp '%s' '%s'", d.cert, a_cert);
  ck_assert_int_eq(system(cmd), 0);
  free(cmd);
  write_cert_pair(b_cert, b_key, "cubit-test-b", 2);
  write_cert_pair(c_cert, c_key, "cubit-test-c", 3);
  free(testutil_write_file(d.dir, "junk.crt", "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n"));

  http_server_opts o;
  http_server_opts_init(&o);
  o.cert_file = d.cert;
  o.key_file = d.key;
  o.cert_check_interval_ms = 0; /* check on every new connection */
  fixture f;
  fixture_start(&f, &o);

  tls_reply t = tls_get(&f, a_cert, "/hello");
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-a"));

  swap_pair(&d, b_cert, b_key);
  t = tls_get(&f, b_cert, "/hello");
  ck_assert_int_eq(t.rc, CURLE_OK);
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-b"));
  ck_assert_uint_eq(stats(&f).cert_reloads, 1);
  t = tls_get(&f, a_cert, "/hello"); /* the old CA no longer matches */
  ck_assert_int_eq(t.rc, CURLE_PEER_FAILED_VERIFICATION);

  /* a broken certificate, then a key that does not match: b stays */
  swap_pair(&d, junk, b_key);
  t = tls_get(&f, b_cert, "/hello");
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-b"));
  swap_pair(&d, c_cert, b_key);
  t = tls_get(&f, b_cert, "/hello");
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-b"));
  ck_assert_uint_eq(stats(&f).cert_reloads, 1);

  /* the pair becomes whole again */
  swap_pair(&d, c_cert, c_key);
  t = tls_get(&f, c_cert, "/hello");
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-c"));
  ck_assert_uint_eq(stats(&f).cert_reloads, 2);
  fixture_stop(&f);

  /* with a long interval the files are not looked at again */
  swap_pair(&d, b_cert, b_key);
  o.cert_check_interval_ms = 3600 * 1000;
  fixture_start(&f, &o);
  ck_assert_int_eq(tls_get(&f, b_cert, "/hello").status, 200);
  swap_pair(&d, c_cert, c_key);
  t = tls_get(&f, b_cert, "/hello");
  ck_assert_int_eq(t.status, 200);
  ck_assert_ptr_nonnull(strstr(t.subject, "cubit-test-b"));
  ck_assert_uint_eq(stats(&f).cert_reloads, 0);
  fixture_stop(&f);

  free(a_cert);
  free(b_cert);
  free(b_key);
  free(c_cert);
  free(c_key);
  free(junk);
  tls_dir_free(&d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* construction                                                        */

static void on_closed_flag(void *arg) {
  *(int *)arg = 1;
}

static void close_unstarted(uv_loop_t *loop, http_server *s) {
  int closed = 0;
  http_server_close(s, on_closed_flag, &closed);
  uv_run(loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
}

typedef struct bind_case {
  const char *bind;
  int err;
} bind_case;

static const bind_case bind_cases[] = {
    {"127.0.0.1:0", 0},    {"[::1]:0", 0},           {"0.0.0.0:8443", 0},     {"127.0.0.1", CUBIT_EINVAL},
    {"localhost:80", CUBIT_EINVAL}, {":80", CUBIT_EINVAL}, {"127.0.0.1:70000", CUBIT_EINVAL},
    {"127.0.0.1:-1", CUBIT_EINVAL}, {"127.0.0.1:", CUBIT_EINVAL}, {"[::1]80", CUBIT_EINVAL},
    {"[::1:80", CUBIT_EINVAL}, {"::1:80", CUBIT_EINVAL},
};

START_TEST(bind_addresses) {
  const bind_case *c = &bind_cases[_i];
  uv_loop_t loop;
  uv_loop_init(&loop);
  http_server_opts o;
  http_server_opts_init(&o);
  o.bind = c->bind;
  http_server *s = NULL;
  ck_assert_msg(http_server_new(&loop, &o, &s) == c->err, "%s", c->bind);
  if (s) close_unstarted(&loop, s);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(options_and_routes) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  http_server_opts o;
  http_server_opts_init(&o);
  http_server *s = NULL;

  tls_dir d = tls_dir_new("cubit-test-a");
  tls_dir other = tls_dir_new("cubit-test-b");
  o.cert_file = d.cert; /* without a key */
  ck_assert_int_eq(http_server_new(&loop, &o, &s), CUBIT_EINVAL);
  o.key_file = other.key; /* not the certificate's key */
  ck_assert_int_eq(http_server_new(&loop, &o, &s), CUBIT_ETLS);
  char *missing = xasprintf("%s/none.crt", d.dir);
  o.cert_file = missing;
  ck_assert_int_eq(http_server_new(&loop, &o, &s), CUBIT_ETLS);
  free(missing);
  o.cert_file = d.cert;
  o.key_file = d.key;
  ck_assert_int_eq(http_server_new(&loop, &o, &s), 0);
  ck_assert_int_eq(http_server_port(s), -1);
  ck_assert_int_eq(http_server_tls_min_version(s), TLS1_2_VERSION);
  close_unstarted(&loop, s);

  http_server_opts_init(&o);
  o.max_connections = 0;
  ck_assert_int_eq(http_server_new(&loop, &o, &s), CUBIT_EINVAL);
  http_server_opts_init(&o);
  ck_assert_int_eq(http_server_new(&loop, &o, &s), 0);
  ck_assert_int_eq(http_server_tls_min_version(s), 0);
  ck_assert_int_eq(http_server_route(s, "/a", "GET, HEAD", 0, h_no_content, NULL, HTTP_ROUTE_INLINE), 0);
  ck_assert_int_eq(http_server_route(s, "/a", NULL, 0, h_no_content, NULL, HTTP_ROUTE_INLINE), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "b", NULL, 0, h_no_content, NULL, HTTP_ROUTE_INLINE), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "", 0, h_no_content, NULL, HTTP_ROUTE_INLINE), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "GET,,POST", 0, h_no_content, NULL, HTTP_ROUTE_INLINE),
                   CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "GET,", 0, h_no_content, NULL, HTTP_ROUTE_INLINE), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "GET POST", 0, h_no_content, NULL, HTTP_ROUTE_INLINE), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "GET", 0, h_no_content, NULL, 7), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "GET", 0, NULL, NULL, HTTP_ROUTE_INLINE), CUBIT_EINVAL);
  ck_assert_int_eq(http_server_route(s, "/c", "GET", 0, h_no_content, NULL, HTTP_ROUTE_OFFLOAD), 0);

  /* a second server on a taken port fails to start */
  ck_assert_int_eq(http_server_start(s), 0);
  char *bind = xasprintf("127.0.0.1:%d", http_server_port(s));
  http_server *dup = NULL;
  o.bind = bind;
  ck_assert_int_eq(http_server_new(&loop, &o, &dup), 0);
  ck_assert_int_eq(http_server_start(dup), CUBIT_EIO);
  int closed_dup = 0, closed_s = 0;
  http_server_close(dup, on_closed_flag, &closed_dup);
  http_server_close(s, on_closed_flag, &closed_s);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert(closed_dup && closed_s);
  free(bind);

  http_response r = {.status = 200};
  buf_init(&r.body, 100);
  buf_init(&r.headers_, 100);
  ck_assert_int_eq(http_response_header(&r, "Retry-After", "5"), 0);
  ck_assert_int_eq(http_response_header(&r, "X-Evil", "a\r\nSet-Cookie: x"), CUBIT_EINVAL);
  ck_assert_int_eq(http_response_header(&r, "Content-Length", "5"), CUBIT_EINVAL);
  ck_assert_int_eq(http_response_header(&r, "", "5"), CUBIT_EINVAL);
  ck_assert_int_eq(http_response_header(&r, "A:B", "5"), CUBIT_EINVAL);
  ck_assert_str_eq(r.headers_.data, "Retry-After: 5\r\n");
  buf_free(&r.body);
  buf_free(&r.headers_);

  ck_assert_int_eq(uv_loop_close(&loop), 0);
  tls_dir_free(&d);
  tls_dir_free(&other);
}
END_TEST

START_TEST(ipv6_loopback) {
  http_server_opts o;
  http_server_opts_init(&o);
  o.bind = "[::1]:0";
  fixture f;
  memset(&f, 0, sizeof(f));
  uv_loop_t probe;
  uv_loop_init(&probe);
  http_server *s = NULL;
  ck_assert_int_eq(http_server_new(&probe, &o, &s), 0);
  int can = http_server_start(s) == 0;
  close_unstarted(&probe, s);
  ck_assert_int_eq(uv_loop_close(&probe), 0);
  if (!can) return; /* no IPv6 on this machine */
  fixture_start(&f, &o);
  CURL *h = client_new();
  char *url = xasprintf("http://[::1]:%d/hello", f.port);
  reply r = fetch(h, NULL, url, NULL, 0, NULL);
  ck_assert_int_eq(r.status, 200);
  reply_free(&r);
  free(url);
  curl_easy_cleanup(h);
  fixture_stop(&f);
}
END_TEST

START_TEST(metrics_by_route_and_code) {
  http_server_opts o;
  http_server_opts_init(&o);
  fixture f;
  fixture_start(&f, &o);
  ck_assert_int_eq(quick(&f, NULL, "/hello", NULL), 200);
  ck_assert_int_eq(quick(&f, NULL, "/hello", NULL), 200);
  ck_assert_int_eq(quick(&f, NULL, "/nope", NULL), 404);
  ck_assert_int_eq(quick(&f, NULL, "/other", NULL), 404);
  ck_assert_int_eq(quick(&f, "DELETE", "/echo", NULL), 405);
  cubit_buf out;
  buf_init(&out, 1u << 20);
  ck_assert_int_eq(metrics_write(f.metrics, &out), 0);
  ck_assert_ptr_nonnull(strstr(out.data, "cubit_http_requests_total{path=\"/hello\",code=\"200\"} 2\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "cubit_http_requests_total{path=\"unmatched\",code=\"404\"} 2\n"));
  ck_assert_ptr_nonnull(strstr(out.data, "cubit_http_requests_total{path=\"/echo\",code=\"405\"} 1\n"));
  buf_free(&out);
  fixture_stop(&f);
}
END_TEST

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Suite *s = suite_create("http");

  TCase *parse = tcase_create("reqparser");
  tcase_add_loop_test(parse, reqparser_table, 0, (int)(sizeof(rp_cases) / sizeof(rp_cases[0])));
  tcase_add_test(parse, reqparser_pipelined);
  tcase_add_test(parse, reqparser_expect_continue);
  tcase_add_test(parse, reqparser_allocation_failure);
  suite_add_tcase(s, parse);

  TCase *plain = tcase_create("plain");
  tcase_set_timeout(plain, 120);
  tcase_add_test(plain, plain_routes);
  tcase_add_test(plain, keep_alive_and_close);
  tcase_add_test(plain, offloaded_echo);
  tcase_add_test(plain, body_over_cap);
  tcase_add_test(plain, header_caps);
  tcase_add_loop_test(plain, raw_protocol_table, 0, (int)(sizeof(raw_cases) / sizeof(raw_cases[0])));
  tcase_add_test(plain, pipelining_and_expect_continue);
  tcase_add_test(plain, slow_clients_closed);
  tcase_add_test(plain, idle_clients_closed);
  tcase_add_test(plain, max_connections_wait_in_backlog);
  tcase_add_test(plain, many_concurrent_clients);
  tcase_add_test(plain, close_with_inflight_offloaded_request);
  tcase_add_test(plain, close_after_client_left_inflight_request);
  tcase_add_test(plain, handler_closes_server);
  tcase_add_test(plain, metrics_by_route_and_code);
  tcase_add_test(plain, ipv6_loopback);
  suite_add_tcase(s, plain);

  TCase *limits = tcase_create("limits");
  tcase_set_timeout(limits, 120);
  tcase_add_loop_test(limits, bodies_refused_before_read, 0, (int)(sizeof(early_cases) / sizeof(early_cases[0])));
  tcase_add_test(limits, get_with_big_body_costs_nothing);
  tcase_add_test(limits, body_budget_shared_by_connections);
  tcase_add_test(limits, idle_evicted_at_capacity);
  tcase_add_test(limits, per_client_cap);
  suite_add_tcase(s, limits);

  TCase *tls = tcase_create("tls");
  tcase_set_timeout(tls, 120);
  tcase_add_test(tls, tls_get_and_post);
  tcase_add_test(tls, tls_old_versions_rejected);
  tcase_add_test(tls, tls_certificate_reload);
  suite_add_tcase(s, tls);

  TCase *setup = tcase_create("construction");
  tcase_add_loop_test(setup, bind_addresses, 0, (int)(sizeof(bind_cases) / sizeof(bind_cases[0])));
  tcase_add_test(setup, options_and_routes);
  suite_add_tcase(s, setup);

  int rc = testutil_run(s);
  curl_global_cleanup();
  return rc;
}
