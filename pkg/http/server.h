/* HTTP/1.1 server on a caller-owned libuv loop, optionally over TLS: the
 * transport of the admission webhooks, /metrics, /healthz and /readyz.
 *
 * Threads. Every http_server_* function is called on the loop thread (or
 * before the loop runs). A route is "inline" (its handler runs on the loop
 * thread: cheap things like /healthz and /metrics) or "offloaded" (its
 * handler runs on libuv's threadpool through uv_queue_work and the response
 * is written back on the loop thread: admission handlers that read the
 * shared cache must not block the loop). The process must ignore SIGPIPE
 * (cubit-manager's main does): libuv writes with write(2).
 *
 * Protocol. HTTP/1.1 (and 1.0) parsed by http-parser. Connections are kept
 * alive unless the client sends "Connection: close" (or is HTTP/1.0 without
 * keep-alive); pipelined requests are answered in order, one at a time.
 * Request bodies are framed by Content-Length or by chunked
 * Transfer-Encoding (decoded by http-parser, trailers ignored); a POST, PUT
 * or PATCH with neither is answered 411, because a body-carrying method
 * without framing is a client we cannot read correctly. "Expect:
 * 100-continue" is honoured (the refusal is sent instead when the body
 * would be refused).
 *
 * Bodies. Each route declares the largest body it takes; GET and HEAD
 * requests take none whatever the route says. The cap is decided as soon
 * as the headers are in, so a body nobody reads costs no memory: an
 * announced length over the cap is answered 413 before a byte of it is
 * read (a chunked one at its first byte over), a body sent to an unknown
 * path 404 and one with a method the route does not serve 405, each at
 * once. All connections together hold at most max_body_buffered bytes of
 * request bodies (the memory is at most twice that as buffers grow by
 * doubling); a body that would pass it is answered 503 with Retry-After. Upgrades (WebSocket, h2c) are not supported: the
 * request is answered as a plain one and the connection closed. TLS
 * connections offer ALPN "http/1.1" only.
 *
 * Errors are answered by the server itself: 400 malformed request, 404 no
 * route for the path, 405 method not in the route's list (with Allow), 411
 * body without framing, 413 body over max_body, 414 request target over
 * max_header_bytes, 431 more than max_headers header fields or more than
 * max_header_bytes of them, 500 when the handler set an invalid status,
 * 501 a Transfer-Encoding other than plain "chunked" (gzip would reach the
 * handler still encoded). After a framing error (400, 411, 413, 414, 431,
 * 501) the connection is closed once the response is written. Paths are
 * matched as sent, so "OPTIONS *" is a 404.
 *
 * Timeouts. A request (TLS handshake included for a new connection) must
 * arrive completely within request_timeout_ms of its first byte, or the
 * connection is closed (slowloris); a response must be written within
 * write_timeout_ms; a kept-alive connection idle for idle_timeout_ms is
 * closed.
 *
 * Connections. A connection with no request under way (kept alive between
 * requests, or opened and silent) is idle. At max_connections the one idle
 * longest is closed to let a new client in, so idle clients cannot lock
 * others out; when none is idle, new connections wait in the kernel's
 * listen backlog until one closes. One client (peer IP address) holds at
 * most max_connections_per_client: past it its own longest-idle connection
 * is closed, or, when all of them are busy, the new one is closed at once.
 *
 * TLS (when cert_file and key_file are given): TLS 1.2 minimum; TLS 1.2
 * ciphers limited to ECDHE key exchange with AES-GCM or ChaCha20-Poly1305;
 * TLS 1.3 with OpenSSL's defaults; renegotiation off. The PEM files are
 * re-checked (stat: device, inode, size, mtime) when a connection arrives,
 * at most once per cert_check_interval_ms. When they changed, a new SSL_CTX
 * is built and used for new connections (open ones keep theirs); when the
 * new pair does not load (partly written, key not matching the
 * certificate), the old one stays in use and an error is logged. Secret
 * volumes swap files atomically, so the check sees whole pairs.
 *
 * Metrics (when a registry is given): cubit_http_requests_total{path,code},
 * where path is the route's path or "unmatched", so unknown paths cannot
 * grow the label set; cubit_http_connections_shed_total{reason}: reason
 * idle_evicted (at max_connections), client_idle_evicted and client_limit
 * (at max_connections_per_client), body_budget (a 503 past
 * max_body_buffered). */
#ifndef CUBIT_HTTP_SERVER_H
#define CUBIT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/metrics.h"

typedef struct http_server http_server;

typedef struct http_server_opts {
  const char *name;        /* in log lines: "webhook", "metrics" (default "http") */
  const char *bind;        /* numeric "127.0.0.1:9443" or "[::1]:9443"; port 0 picks one */
  const char *cert_file;   /* PEM certificate chain; NULL (with key_file NULL) = plain HTTP */
  const char *key_file;    /* PEM private key */
  unsigned cert_check_interval_ms; /* 10 s; 0 checks the files on every new connection */
  size_t max_body_buffered; /* 32 MiB of request bodies held at once, over all
                             * connections: the memory a flood of large bodies
                             * can take, whatever the number of connections */
  size_t max_response_body; /* 64 MiB: the cap of http_response.body */
  size_t max_headers;      /* 100 header fields */
  size_t max_header_bytes; /* 32 KiB of request target, names and values; http-parser
                            * also caps a header section at 80 KiB */
  unsigned request_timeout_ms; /* 10 s to receive a whole request */
  unsigned write_timeout_ms;   /* 10 s to write a response */
  unsigned idle_timeout_ms;    /* 120 s: longer than Go clients' 90 s idle timeout, so
                                * the client, not us, closes idle connections */
  unsigned max_connections;    /* 1024 */
  unsigned max_connections_per_client; /* 256 open connections per peer IP address */
  metrics_registry *metrics;   /* NULL: no metrics. Borrowed; must outlive the server */
} http_server_opts;

/* A request as the handler sees it. Every pointer is owned by the server and
 * valid only until the handler returns; copy what must live longer. */
typedef struct http_request {
  const char *method;   /* "GET", "POST", ... */
  const char *path;     /* "/validate-notebook", as sent (not percent-decoded) */
  const char *query;    /* text after '?', "" when absent */
  const char *body;     /* body_len bytes, NUL-terminated; "" when empty */
  size_t body_len;
  const char *remote;   /* peer address "127.0.0.1:40312" */
  /* private */
  const char *const *headers_; /* name, value, name, value, ... */
  size_t nheaders_;
} http_request;

/* Returns the value of the first header field named 'name' (compared
 * case-insensitively), without surrounding whitespace, or NULL. The string
 * belongs to the request. */
const char *http_request_header(const http_request *r, const char *name);

/* The handler fills a response the server prepared: status 200, no content
 * type, an empty body capped at max_response_body. */
typedef struct http_response {
  int status;               /* 200..599 or the server answers 500; 204 and 304
                             * are sent without a body */
  const char *content_type; /* default "text/plain; charset=utf-8". Must outlive the
                             * handler call: a string literal or storage in 'arg' */
  cubit_buf body;           /* the handler appends; the server frees it */
  cubit_buf headers_;       /* private: extra header lines, see http_response_header */
} http_response;

/* Adds a header line to the response ("Retry-After", "Cache-Control").
 * Content-Type, Content-Length, Connection and Date are the server's.
 * Copies name and value. Returns CUBIT_EINVAL when either holds CR or LF or
 * the name is empty, CUBIT_ETOOBIG past 8 KiB of extra headers. */
int http_response_header(http_response *r, const char *name, const char *value) CUBIT_WUR;

/* A route handler. It may run on a threadpool thread (offloaded routes):
 * then it must not touch the loop or the server, only 'req', 'resp' and
 * what 'arg' protects itself. */
typedef void (*http_handler_fn)(const http_request *req, http_response *resp, void *arg);

enum {
  HTTP_ROUTE_INLINE = 0,  /* run on the loop thread */
  HTTP_ROUTE_OFFLOAD = 1  /* run on libuv's threadpool */
};

/* Fills 'o' with the defaults above (bind "127.0.0.1:0", plain HTTP). */
void http_server_opts_init(http_server_opts *o);

/* Creates a server on 'loop' (borrowed, must outlive the server). Copies
 * every string of 'opts'. Loads the certificate pair when one is given.
 * Returns 0 and *out, CUBIT_EINVAL for a bad bind address, only one of
 * cert_file/key_file or a zero count or timeout, CUBIT_ETLS when the pair
 * does not load (logged). The
 * server is released by http_server_close, also when never started. */
int http_server_new(uv_loop_t *loop, const http_server_opts *opts, http_server **out) CUBIT_WUR;

/* Serves 'path' (starting with '/'; exact match, or, for a path ending
 * in '/', every path under it not routed more precisely) with fn(req, resp, arg).
 * 'methods' is a comma-separated list ("GET,HEAD", "POST") or NULL for any
 * method. max_body is the largest request body the route takes (0 for
 * none); GET and HEAD requests never carry one. 'flags' is
 * HTTP_ROUTE_INLINE or HTTP_ROUTE_OFFLOAD. 'arg' stays the caller's and
 * must outlive the server. Returns CUBIT_EINVAL for a path not starting
 * with '/', a path already routed, or unknown flags. */
int http_server_route(http_server *s, const char *path, const char *methods, size_t max_body,
                      http_handler_fn fn, void *arg, int flags) CUBIT_WUR;

/* Binds and listens. Returns 0, or CUBIT_EIO (logged) when the address
 * cannot be bound (in use, not local). */
int http_server_start(http_server *s) CUBIT_WUR;

/* The bound port once started (useful with port 0), else -1. */
int http_server_port(const http_server *s);

/* The minimum TLS version of the current context (TLS1_2_VERSION), or 0 for
 * a plain-HTTP server. */
int http_server_tls_min_version(const http_server *s);

/* Counters for tests and diagnostics; safe to read from any thread. */
typedef struct http_server_stats {
  uint64_t connections_accepted;
  uint64_t connections_open;
  uint64_t requests;      /* responses written, error responses included */
  uint64_t cert_reloads;  /* successful certificate reloads */
  uint64_t connections_evicted; /* idle connections closed to make room */
  uint64_t connections_refused; /* closed at accept: their client was at its limit */
  size_t body_bytes;            /* request body bytes held now, all connections together */
  size_t body_bytes_peak;       /* the most ever held at once */
} http_server_stats;
void http_server_stats_get(const http_server *s, http_server_stats *out);

typedef void (*http_server_close_cb)(void *arg);

/* Stops accepting, closes idle connections and connections in the middle of
 * receiving a request, lets requests already being handled (offloaded ones
 * included) finish and write their response with "Connection: close", then
 * closes every handle. When the last one is closed the server is freed and
 * cb(arg) runs on the loop thread (cb may be NULL). 's' is invalid after
 * this call returns. */
void http_server_close(http_server *s, http_server_close_cb cb, void *arg);

#endif
