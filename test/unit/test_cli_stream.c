/* kube_request_stream (pkg/kube/client.c), the reader under `kubectl cubit
 * logs`, and the history API client's token header: against a scripted loopback server, a chunked log arrives in
 * pieces and is prefixed per line; an error answer gives the Status' code
 * and message and nothing to the callback; a callback that stops ends the
 * read without an error. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/kubectl-cubit/cli.h"
#include "kube/client.h"
#include "testutil.h"

typedef struct server {
  int fd;
  int port;
  const char *const *parts; /* written one after another, a pause between */
  char request[4096];
  pthread_t thread;
} server;

static void *serve_one(void *arg) {
  server *s = arg;
  int c = accept(s->fd, NULL, NULL);
  if (c < 0) return NULL;
  ssize_t n = read(c, s->request, sizeof(s->request) - 1);
  if (n > 0) s->request[n] = '\0';
  for (size_t i = 0; s->parts[i]; i++) {
    size_t len = strlen(s->parts[i]), off = 0;
    while (off < len) {
      ssize_t w = send(c, s->parts[i] + off, len - off, MSG_NOSIGNAL); /* the reader may have stopped */
      if (w <= 0) break;
      off += (size_t)w;
    }
    usleep(20000); /* the client reads each part on its own */
  }
  close(c);
  return NULL;
}

static void server_start(server *s, const char *const *parts) {
  memset(s, 0, sizeof(*s));
  s->parts = parts;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(s->fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(s->fd, 4), 0);
  socklen_t alen = sizeof(a);
  ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
  s->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, serve_one, s), 0);
}

static void server_stop(server *s) {
  pthread_join(s->thread, NULL);
  close(s->fd);
}

typedef struct reader {
  cli_prefixer px;
  cubit_buf out;
  int calls;
  int stop_after; /* 0 = never */
} reader;

static int on_data(const char *data, size_t len, void *arg) {
  reader *r = arg;
  r->calls++;
  ck_assert_int_eq(cli_prefixer_feed(&r->px, data, len, &r->out), 0);
  return r->stop_after && r->calls >= r->stop_after;
}

typedef struct stream_case {
  const char *name;
  const char *parts[6];
  int stop_after;
  int code;
  const char *out;     /* prefixed lines after the flush */
  const char *message; /* kube_status.message on error */
} stream_case;

#define CHUNKED "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"

static const stream_case cases[] = {
    {"log in pieces",
     {CHUNKED, "6\r\nstep 1\r\n", "9\r\n done\nste\r\n", "7\r\np 2 ok\n\r\n", "0\r\n\r\n"},
     0, 0, "[train-0] step 1 done\n[train-0] step 2 ok\n", NULL},
    {"no newline at the end",
     {CHUNKED, "4\r\nlast\r\n", "0\r\n\r\n"}, 0, 0, "[train-0] last\n", NULL},
    {"stopped by the reader",
     {CHUNKED, "2\r\na\n\r\n", "2\r\nb\n\r\n", "0\r\n\r\n"}, 1, 0, "[train-0] a\n", NULL},
    {"pod gone",
     {"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 89\r\n\r\n"
      "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"message\":\"pods \\\"x\\\" not found\"}"},
     0, CUBIT_ENOTFOUND, "", "pods \"x\" not found"},
    {"container not started",
     {"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
      "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"BadRequest\",\"message\":\"container \\\"main\\\" is waiting\"}"},
     0, CUBIT_EBADREQUEST, "", "container \"main\" is waiting"},
};

START_TEST(stream) {
  const stream_case *c = &cases[_i];
  server s;
  server_start(&s, c->parts);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
  kube_config cfg = {.server = url, .namespace = "default"};
  kube_client *client;
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &client), 0);
  reader r = {.stop_after = c->stop_after};
  cli_prefixer_init(&r.px, "train-0");
  buf_init(&r.out, 1 << 20);
  kube_status st;
  int rc = kube_request_stream(client, "/api/v1/namespaces/ns/pods/train-0/log?container=main&follow=true", on_data,
                               &r, &st);
  ck_assert_msg(rc == c->code, "%s: code %d (%s), want %d", c->name, rc, st.message, c->code);
  ck_assert_int_eq(cli_prefixer_flush(&r.px, &r.out), 0);
  const char *got = r.out.len ? r.out.data : "";
  ck_assert_msg(strcmp(got, c->out) == 0, "%s: got \"%s\"", c->name, got);
  if (c->message) ck_assert_str_eq(st.message, c->message);
  else ck_assert_int_ge(r.calls, 1);
  server_stop(&s);
  ck_assert_ptr_nonnull(strstr(s.request, "GET /api/v1/namespaces/ns/pods/train-0/log?container=main&follow=true "));
  buf_free(&r.out);
  cli_prefixer_free(&r.px);
  kube_client_free(client);
}
END_TEST

/* A bounded read (the Experiment controller's log of a finished trial):
 * a server that goes on longer than the limit is cut off with an error,
 * so the worker reading it is given back. */
START_TEST(stream_within) {
  static const char *const slow[] = {CHUNKED, "2\r\na\n\r\n", "2\r\nb\n\r\n", "2\r\nc\n\r\n", "2\r\nd\n\r\n",
                                     "2\r\ne\n\r\n", "2\r\nf\n\r\n", "2\r\ng\n\r\n", "2\r\nh\n\r\n",
                                     "2\r\ni\n\r\n", "2\r\nj\n\r\n", "0\r\n\r\n", NULL};
  server s;
  server_start(&s, slow);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
  kube_config cfg = {.server = url, .namespace = "default"};
  kube_client *client;
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &client), 0);
  reader r = {0};
  cli_prefixer_init(&r.px, "p");
  buf_init(&r.out, 1 << 16);
  kube_status st;
  int rc = kube_request_stream_within(client, "/api/v1/namespaces/ns/pods/p/log", 60, on_data, &r, &st);
  ck_assert_msg(rc != 0, "a read past its limit succeeded");
  ck_assert_int_lt(r.calls, 10);
  server_stop(&s);
  kube_client_free(client);
  /* Without a limit the same answer is read to its end. */
  server_start(&s, slow);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
  ck_assert_int_eq(kube_client_new(&cfg, NULL, &client), 0);
  r.calls = 0;
  ck_assert_int_eq(kube_request_stream(client, "/api/v1/namespaces/ns/pods/p/log", on_data, &r, &st), 0);
  ck_assert_int_eq(r.calls, 10);
  server_stop(&s);
  buf_free(&r.out);
  cli_prefixer_free(&r.px);
  kube_client_free(client);
}
END_TEST

/* The history API's client (kubectl cubit usage/history): the bearer token
 * goes in Authorization and again in X-Cubit-Authorization, which survives
 * the API server's service proxy; a client without token_copy_header sends
 * only Authorization. */
START_TEST(token_copy_header) {
  static const char *const answer[] = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                                       NULL};
  for (int copy = 0; copy <= 1; copy++) {
    server s;
    server_start(&s, answer);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", s.port);
    kube_config cfg = {.server = url, .namespace = "default", .token = "t0k3n"};
    kube_client_options o = {.token_copy_header = copy ? "X-Cubit-Authorization" : NULL};
    kube_client *client;
    ck_assert_int_eq(kube_client_new(&cfg, &o, &client), 0);
    json_t *out = NULL;
    kube_status st;
    ck_assert_int_eq(kube_request(client, "GET", "/api/v1/usage?by=day", NULL, NULL, NULL, 0, &out, &st), 0);
    server_stop(&s);
    ck_assert_ptr_nonnull(strstr(s.request, "\r\nAuthorization: Bearer t0k3n\r\n"));
    ck_assert_int_eq(strstr(s.request, "\r\nX-Cubit-Authorization: Bearer t0k3n\r\n") != NULL, copy);
    json_decref(out);
    kube_client_free(client);
  }
}
END_TEST

int main(void) {
  Suite *su = suite_create("cli_stream");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, stream, 0, sizeof(cases) / sizeof(cases[0]));
  tcase_add_test(tc, stream_within);
  tcase_add_test(tc, token_copy_header);
  suite_add_tcase(su, tc);
  return testutil_run(su);
}
