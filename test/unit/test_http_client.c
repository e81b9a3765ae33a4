/* pkg/http/client: the blocking GET against a scripted loopback server
 * (raw sockets on a thread): statuses, bodies, the body cap, the deadline,
 * refused connections, URLs that are not http, redirects not followed,
 * proxies from the environment ignored. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/client.h"
#include "testutil.h"
#include "util/time.h"

typedef enum { ANSWER, SILENT, HANG_UP } mode;

typedef struct server {
  int fd;
  int port;
  mode how;
  const char *response; /* raw bytes to send for ANSWER */
  size_t response_len;
  char request[4096];   /* what the client sent (first read) */
  pthread_t thread;
} server;

static void *serve_one(void *arg) {
  server *s = arg;
  int c = accept(s->fd, NULL, NULL);
  if (c < 0) return NULL;
  ssize_t n = read(c, s->request, sizeof(s->request) - 1);
  if (n > 0) s->request[n] = '\0';
  if (s->how == ANSWER) {
    size_t off = 0;
    while (off < s->response_len) {
      ssize_t w = write(c, s->response + off, s->response_len - off);
      if (w <= 0) break;
      off += (size_t)w;
    }
  } else if (s->how == SILENT) {
    char junk[64];
    /* Holds the connection open until the client gives up. */
    while (read(c, junk, sizeof(junk)) > 0) {
    }
  }
  close(c);
  return NULL;
}

static void server_start(server *s, mode how, const char *response, size_t len) {
  memset(s, 0, sizeof(*s));
  s->how = how;
  s->response = response;
  s->response_len = len;
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

static char *url_of(const server *s, const char *path) {
  static char url[256];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
  return url;
}

#define JSON_BODY "{\"status\":\"alive\",\"lastHeartbeat\":1732262400000}"

typedef struct status_case {
  const char *name;
  const char *response;
  long status;
  const char *body;
} status_case;

static const status_case status_cases[] = {
    {"200 with a body",
     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 48\r\nConnection: close\r\n\r\n" JSON_BODY,
     200, JSON_BODY},
    {"404 is a response, not an error", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
     404, "not found"},
    {"500", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 500, ""},
    {"redirect not followed",
     "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 302,
     ""},
    {"body until close, no length", "HTTP/1.0 200 OK\r\n\r\nplain text", 200, "plain text"},
    {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
     200, "abcde"},
};

START_TEST(test_statuses) {
  const status_case *c = &status_cases[_i];
  server s;
  server_start(&s, ANSWER, c->response, strlen(c->response));
  http_get_result r;
  http_get_opts o = {.timeout_ms = 5000, .accept = "application/json"};
  int rc = http_get(url_of(&s, "/notebook/ns/nb/api/status"), &o, &r);
  server_stop(&s);
  ck_assert_msg(rc == 0, "%s: rc %d (%s)", c->name, rc, r.error);
  ck_assert_int_eq(r.status, c->status);
  ck_assert_str_eq(r.body, c->body);
  ck_assert_uint_eq(r.body_len, strlen(c->body));
  static const char line[] = "GET /notebook/ns/nb/api/status HTTP/1.1\r\n";
  ck_assert_msg(strncmp(s.request, line, sizeof(line) - 1) == 0, "request line: %s", s.request);
  ck_assert_msg(strstr(s.request, "\r\nAccept: application/json\r\n") != NULL, "Accept header: %s", s.request);
  http_get_result_free(&r);
  ck_assert_ptr_null(r.body);
}
END_TEST

START_TEST(test_body_cap) {
  static char response[8192];
  int n = snprintf(response, sizeof(response), "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\nConnection: close\r\n\r\n");
  memset(response + n, 'x', 4000);
  server s;
  server_start(&s, ANSWER, response, (size_t)n + 4000);
  http_get_result r;
  http_get_opts o = {.timeout_ms = 5000, .max_body = 1000};
  int rc = http_get(url_of(&s, "/"), &o, &r);
  server_stop(&s);
  ck_assert_int_eq(rc, CUBIT_ETOOBIG);
  ck_assert_ptr_null(r.body);
  ck_assert_msg(strstr(r.error, "1000") != NULL, "error: %s", r.error);
  http_get_result_free(&r);

  /* Exactly at the cap is fine. */
  server_start(&s, ANSWER, response, (size_t)n + 4000);
  o.max_body = 4000;
  rc = http_get(url_of(&s, "/"), &o, &r);
  server_stop(&s);
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(r.body_len, 4000);
  http_get_result_free(&r);
}
END_TEST

START_TEST(test_deadline) {
  server s;
  server_start(&s, SILENT, NULL, 0);
  http_get_result r;
  http_get_opts o = {.timeout_ms = 300};
  int64_t t0 = time_mono_ms();
  int rc = http_get(url_of(&s, "/"), &o, &r);
  int64_t took = time_mono_ms() - t0;
  server_stop(&s);
  ck_assert_int_eq(rc, CUBIT_ETIMEOUT);
  ck_assert_int_eq(r.status, 0);
  /* It waited for the deadline rather than failing at once. */
  ck_assert_int_ge(took, 250);
  http_get_result_free(&r);
}
END_TEST

START_TEST(test_hang_up) {
  server s;
  server_start(&s, HANG_UP, NULL, 0);
  http_get_result r;
  int rc = http_get(url_of(&s, "/"), NULL, &r);
  server_stop(&s);
  ck_assert_int_eq(rc, CUBIT_ECONNECT);
  ck_assert_msg(r.error[0] != '\0', "no error text");
  http_get_result_free(&r);
}
END_TEST

START_TEST(test_refused) {
  /* A port that was just bound and closed has nobody listening. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  socklen_t alen = sizeof(a);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
  close(fd);
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", ntohs(a.sin_port));
  http_get_result r;
  ck_assert_int_eq(http_get(url, NULL, &r), CUBIT_ECONNECT);
  ck_assert_ptr_null(r.body);
  http_get_result_free(&r);
}
END_TEST

START_TEST(test_not_http) {
  static const char *urls[] = {"file:///etc/passwd", "ftp://127.0.0.1/x", "127.0.0.1:80/x", "gopher://h/", ""};
  for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
    http_get_result r;
    ck_assert_int_eq(http_get(urls[i], NULL, &r), CUBIT_EINVAL);
    ck_assert_ptr_null(r.body);
    http_get_result_free(&r);
  }
  http_get_result r;
  ck_assert_int_eq(http_get(NULL, NULL, &r), CUBIT_EINVAL);
}
END_TEST

START_TEST(test_proxy_env_ignored) {
  const char *response = "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
  server s;
  server_start(&s, ANSWER, response, strlen(response));
  /* A proxy nobody listens on: using it would fail the request. */
  setenv("http_proxy", "http://127.0.0.1:9", 1);
  setenv("HTTP_PROXY", "http://127.0.0.1:9", 1);
  http_get_result r;
  int rc = http_get(url_of(&s, "/"), NULL, &r);
  unsetenv("http_proxy");
  unsetenv("HTTP_PROXY");
  server_stop(&s);
  ck_assert_msg(rc == 0, "rc %d: %s", rc, r.error);
  ck_assert_int_eq(r.status, 204);
  http_get_result_free(&r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("http_client");
  TCase *tc = tcase_create("get");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_statuses, 0, sizeof(status_cases) / sizeof(status_cases[0]));
  tcase_add_test(tc, test_body_cap);
  tcase_add_test(tc, test_deadline);
  tcase_add_test(tc, test_hang_up);
  tcase_add_test(tc, test_refused);
  tcase_add_test(tc, test_not_http);
  tcase_add_test(tc, test_proxy_env_ignored);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return testutil_run(suite());
}
