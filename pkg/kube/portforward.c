/* Port-forward streams over a WebSocket (portforward.h). */
#include "kube/portforward.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kube/internal.h"
#include "kube/request.h"
#include "kube/websocket.h"
#include "util/alloc.h"

/* A message from the server is one kubelet write (32 KiB buffers): cap it
 * well above that. */
#define PF_MAX_MESSAGE (1 << 20)
#define PF_MAX_HEAD 16384
#define PF_MAX_ERROR_BODY 65536
#define PF_HANDSHAKE_MS 30000
/* After our close frame, how long the server may take to answer it. */
#define PF_CLOSE_WAIT_MS 2000

struct kube_portforward {
  CURL *easy;
  curl_socket_t sock;
  uint16_t port;
  cubit_buf early;   /* WebSocket bytes that came with the handshake's answer */
  cubit_buf out;     /* frames not yet sent */
  kube_ws_decoder dec;
  kube_pf_demux demux;
  int fd;            /* the local socket, during the pump */
  int close_sent, close_received, local_gone;
  char why[512];     /* a protocol or local error met in a callback */
};

void kube_pf_demux_init(kube_pf_demux *d, uint16_t port) {
  memset(d, 0, sizeof(*d));
  d->port = port;
  buf_init(&d->error, KUBE_PF_MAX_ERROR);
}

void kube_pf_demux_free(kube_pf_demux *d) {
  buf_free(&d->error);
}

int kube_pf_demux_message(kube_pf_demux *d, const uint8_t *msg, size_t len, kube_stream_cb on_data, void *arg,
                          char *err, size_t errlen) {
  if (len == 0) {
    snprintf(err, errlen, "an empty message (no channel byte)");
    return CUBIT_EINVAL;
  }
  unsigned ch = msg[0];
  if (ch != KUBE_PF_DATA && ch != KUBE_PF_ERROR) {
    snprintf(err, errlen, "a message on channel %u (one port has channels 0 and 1)", ch);
    return CUBIT_EINVAL;
  }
  msg++;
  len--;
  while (d->prefix_len[ch] < 2 && len > 0) {
    d->prefix[ch][d->prefix_len[ch]++] = *msg++;
    len--;
    if (d->prefix_len[ch] == 2) {
      unsigned got = (unsigned)d->prefix[ch][0] | ((unsigned)d->prefix[ch][1] << 8);
      if (got != d->port) {
        snprintf(err, errlen, "channel %u is for port %u, not %u", ch, got, (unsigned)d->port);
        return CUBIT_EINVAL;
      }
    }
  }
  if (len == 0) return 0;
  if (ch == KUBE_PF_DATA) return on_data((const char *)msg, len, arg);
  /* More than the cap is cut: the first sentence is what tells the user. */
  size_t room = KUBE_PF_MAX_ERROR - d->error.len;
  if (room > 0 && buf_append(&d->error, msg, len < room ? len : room)) return CUBIT_ENOMEM;
  return 0;
}

/* ---------------------------------------------------------- transport */

/* Waits until the socket is ready for events or ms pass; 0 when ready. */
static int wait_sock(curl_socket_t s, short events, int ms) {
  struct pollfd p = {.fd = s, .events = events};
  int n;
  do n = poll(&p, 1, ms);
  while (n < 0 && errno == EINTR);
  return n > 0 ? 0 : n == 0 ? CUBIT_ETIMEOUT : CUBIT_EIO;
}

/* Sends all of p (blocking up to ms for room). */
static int send_all(kube_portforward *pf, const void *p, size_t len, int ms, kube_status *st) {
  const char *b = p;
  while (len > 0) {
    size_t n = 0;
    CURLcode cc = curl_easy_send(pf->easy, b, len, &n);
    if (cc == CURLE_AGAIN) {
      if (wait_sock(pf->sock, POLLOUT, ms)) {
        snprintf(st->message, sizeof(st->message), "sending to the API server: timed out");
        return CUBIT_ETIMEOUT;
      }
      continue;
    }
    if (cc != CURLE_OK) {
      snprintf(st->message, sizeof(st->message), "sending to the API server: %s", curl_easy_strerror(cc));
      return CUBIT_ECONNECT;
    }
    b += n;
    len -= n;
  }
  return 0;
}

/* Reads what is there into buf (at most cap): *n bytes, 0 at the end of
 * the connection. CURLE_AGAIN means nothing is there yet. */
static CURLcode recv_some(kube_portforward *pf, char *buf, size_t cap, size_t *n) {
  *n = 0;
  return curl_easy_recv(pf->easy, buf, cap, n);
}

/* The Status of an error answer, into st and a code. */
static int error_answer(long status, const char *body, size_t len, kube_status *st) {
  st->http_status = status;
  const char *reason = NULL;
  json_error_t jerr;
  json_t *j = len ? json_loadb(body, len, 0, &jerr) : NULL;
  if (j && json_is_object(j)) {
    reason = json_string_value(json_object_get(j, "reason"));
    if (reason) snprintf(st->reason, sizeof(st->reason), "%s", reason);
    const char *m = json_string_value(json_object_get(j, "message"));
    if (m) snprintf(st->message, sizeof(st->message), "%s", m);
  }
  if (st->message[0] == '\0')
    snprintf(st->message, sizeof(st->message), "HTTP %ld: %.*s", status, (int)(len > 200 ? 200 : len),
             len ? body : "");
  int rc = kube__code_for(status, reason);
  json_decref(j);
  /* A 2xx other than 101 is no upgrade at all. */
  return rc ? rc : CUBIT_ENOTSUP;
}

/* The request line's target and the Host header for url. */
static int split_url(const char *url, char **target, char **host, kube_status *st) {
  CURLU *u = curl_url();
  char *h = NULL, *port = NULL, *path = NULL, *query = NULL;
  int rc = 0;
  if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
    snprintf(st->message, sizeof(st->message), "the API server URL %s cannot be parsed", url);
    rc = CUBIT_EINVAL;
    goto out;
  }
  if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK) port = NULL;
  if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK) query = NULL;
  *target = xasprintf("%s%s%s", path, query ? "?" : "", query ? query : "");
  *host = port ? xasprintf("%s:%s", h, port) : xstrdup(h);
out:
  curl_free(h);
  curl_free(port);
  curl_free(path);
  curl_free(query);
  curl_url_cleanup(u);
  return rc;
}

/* The upgrade request: our headers, then what kube__prepare gave (Accept,
 * Authorization), or basic auth from the kubeconfig. */
static char *upgrade_request(kube_client *c, const char *target, const char *host, const char *key,
                             const struct curl_slist *headers) {
  cubit_buf b;
  buf_init(&b, PF_MAX_HEAD);
  int rc = buf_appendf(&b,
                       "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Protocol: %s\r\n",
                       target, host, kube__user_agent(c), key, KUBE_PF_PROTOCOL);
  int auth = 0;
  for (const struct curl_slist *h = headers; h && rc == 0; h = h->next) {
    if (strncasecmp(h->data, "Authorization:", 14) == 0) auth = 1;
    rc = buf_appendf(&b, "%s\r\n", h->data);
  }
  const kube_config *cfg = kube_client_config(c);
  if (rc == 0 && !auth && cfg->username && cfg->password) {
    char *pair = xasprintf("%s:%s", cfg->username, cfg->password);
    char *b64 = kube__base64_encode(pair, strlen(pair));
    free(pair);
    rc = b64 ? buf_appendf(&b, "Authorization: Basic %s\r\n", b64) : CUBIT_ENOMEM;
    free(b64);
  }
  if (rc == 0) rc = buf_appends(&b, "\r\n");
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  return buf_detach(&b);
}

/* Reads the answer's head (and any bytes after it into pf->early); for an
 * error answer also its body, into st. */
static int read_answer(kube_portforward *pf, const char *key, kube_status *st) {
  char head[PF_MAX_HEAD + 1];
  size_t have = 0;
  char *end = NULL;
  while (end == NULL) {
    if (have == PF_MAX_HEAD) {
      snprintf(st->message, sizeof(st->message), "the API server's answer has a head over %d bytes", PF_MAX_HEAD);
      return CUBIT_ETOOBIG;
    }
    size_t n;
    CURLcode cc = recv_some(pf, head + have, PF_MAX_HEAD - have, &n);
    if (cc == CURLE_AGAIN) {
      if (wait_sock(pf->sock, POLLIN, PF_HANDSHAKE_MS)) {
        snprintf(st->message, sizeof(st->message), "the API server did not answer the upgrade in %d s",
                 PF_HANDSHAKE_MS / 1000);
        return CUBIT_ETIMEOUT;
      }
      continue;
    }
    if (cc != CURLE_OK || n == 0) {
      snprintf(st->message, sizeof(st->message), "the API server closed the connection before answering: %s",
               cc == CURLE_OK ? "end of stream" : curl_easy_strerror(cc));
      return CUBIT_ECONNECT;
    }
    have += n;
    head[have] = '\0';
    end = strstr(head, "\r\n\r\n");
  }
  size_t hlen = (size_t)(end - head) + 4;
  long status, content_length;
  char err[512];
  if (kube_ws_handshake_parse(head, hlen, key, KUBE_PF_PROTOCOL, &status, &content_length, err, sizeof(err))) {
    st->http_status = status;
    snprintf(st->message, sizeof(st->message), "port-forward: %s", err);
    return CUBIT_ENOTSUP;
  }
  if (status == 101) {
    st->http_status = status;
    return buf_append(&pf->early, head + hlen, have - hlen);
  }
  /* The Status body: Content-Length of it, or up to the end of the stream. */
  cubit_buf body;
  buf_init(&body, PF_MAX_ERROR_BODY);
  int rc = buf_append(&body, head + hlen, have - hlen);
  char chunk[4096];
  while (rc == 0 && (content_length < 0 || body.len < (size_t)content_length) && body.len < PF_MAX_ERROR_BODY) {
    size_t n;
    CURLcode cc = recv_some(pf, chunk, sizeof(chunk), &n);
    if (cc == CURLE_AGAIN) {
      if (wait_sock(pf->sock, POLLIN, PF_HANDSHAKE_MS)) break;
      continue;
    }
    if (cc != CURLE_OK || n == 0) break;
    size_t room = PF_MAX_ERROR_BODY - body.len;
    rc = buf_append(&body, chunk, n < room ? n : room);
  }
  rc = error_answer(status, body.data ? body.data : "", body.len, st);
  buf_free(&body);
  return rc;
}

/* One attempt at the upgrade. */
static int open_once(kube_client *c, const char *url, kube_portforward *pf, kube_status *st) {
  struct curl_slist *headers = NULL;
  char *target = NULL, *host = NULL, *req = NULL;
  pf->easy = curl_easy_init();
  if (pf->easy == NULL) {
    snprintf(st->message, sizeof(st->message), "cannot make an HTTP client");
    return CUBIT_ENOMEM;
  }
  /* The kubelet's router answers 406 to Accept: application/json. */
  int rc = kube__prepare(c, pf->easy, "*/*", &headers, st);
  if (rc) goto out;
  rc = split_url(url, &target, &host, st);
  if (rc) goto out;
  curl_easy_setopt(pf->easy, CURLOPT_URL, url);
  curl_easy_setopt(pf->easy, CURLOPT_CONNECT_ONLY, 1L);
  /* ALPN must not pick HTTP/2: the upgrade below is HTTP/1.1. */
  curl_easy_setopt(pf->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(pf->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)PF_HANDSHAKE_MS);
  if (kube_client_config(c)->proxy_url) curl_easy_setopt(pf->easy, CURLOPT_HTTPPROXYTUNNEL, 1L);
  CURLcode cc = curl_easy_perform(pf->easy);
  if (cc != CURLE_OK) {
    snprintf(st->message, sizeof(st->message), "connecting to %s: %s", host, curl_easy_strerror(cc));
    rc = cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_PEER_FAILED_VERIFICATION ? CUBIT_ETLS : CUBIT_ECONNECT;
    goto out;
  }
  if (curl_easy_getinfo(pf->easy, CURLINFO_ACTIVESOCKET, &pf->sock) != CURLE_OK || pf->sock == CURL_SOCKET_BAD) {
    snprintf(st->message, sizeof(st->message), "no socket to the API server");
    rc = CUBIT_ECONNECT;
    goto out;
  }
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    snprintf(st->message, sizeof(st->message), "no random bytes for the WebSocket key");
    rc = CUBIT_EIO;
    goto out;
  }
  char *key = kube__base64_encode(raw, sizeof(raw));
  if (key == NULL) {
    rc = CUBIT_ENOMEM;
    goto out;
  }
  req = upgrade_request(c, target, host, key, headers);
  rc = req ? send_all(pf, req, strlen(req), PF_HANDSHAKE_MS, st) : CUBIT_ENOMEM;
  if (rc == 0) rc = read_answer(pf, key, st);
  free(key);
out:
  free(req);
  free(target);
  free(host);
  curl_slist_free_all(headers);
  return rc;
}

static void pf_reset(kube_portforward *pf) {
  if (pf->easy) curl_easy_cleanup(pf->easy);
  pf->easy = NULL;
  pf->sock = CURL_SOCKET_BAD;
  buf_reset(&pf->early);
}

int kube_portforward_open(kube_client *c, const char *ns, const char *pod, uint16_t port, kube_portforward **out,
                          kube_status *st) {
  kube_status local;
  if (st == NULL) st = &local;
  memset(st, 0, sizeof(*st));
  *out = NULL;
  kube_portforward *pf = xcalloc(1, sizeof(*pf));
  pf->port = port;
  pf->sock = CURL_SOCKET_BAD;
  pf->fd = -1;
  buf_init(&pf->early, PF_MAX_HEAD);
  buf_init(&pf->out, (size_t)4 * PF_MAX_MESSAGE);
  kube_ws_decoder_init(&pf->dec, PF_MAX_MESSAGE);
  kube_pf_demux_init(&pf->demux, port);
  char *path = kube_resource_path(&kube_pods, ns, pod, "portforward");
  char *url = kube__url(c, path);
  char *full = xasprintf("%s?ports=%u", url, (unsigned)port);
  int rc = open_once(c, full, pf, st);
  const kube_config *cfg = kube_client_config(c);
  /* A rotated token or an expired exec credential: fetch it again once, as
   * the verbs do. */
  if (rc == CUBIT_EUNAUTHORIZED && (cfg->token_file || cfg->exec)) {
    kube__invalidate_creds(c);
    pf_reset(pf);
    memset(st, 0, sizeof(*st));
    rc = open_once(c, full, pf, st);
  }
  free(full);
  free(url);
  free(path);
  if (rc) {
    kube_portforward_free(pf);
    return rc;
  }
  *out = pf;
  return 0;
}

void kube_portforward_free(kube_portforward *pf) {
  if (pf == NULL) return;
  if (pf->easy) curl_easy_cleanup(pf->easy);
  buf_free(&pf->early);
  buf_free(&pf->out);
  kube_ws_decoder_free(&pf->dec);
  kube_pf_demux_free(&pf->demux);
  free(pf);
}

/* ---------------------------------------------------------- the pump */

static int queue_frame(kube_portforward *pf, kube_ws_opcode op, const void *p, size_t len) {
  uint8_t mask[4];
  if (RAND_bytes(mask, sizeof(mask)) != 1) return CUBIT_EIO;
  return kube_ws_encode(&pf->out, op, 1, p, len, mask);
}

static int queue_close(kube_portforward *pf, int code) {
  if (pf->close_sent) return 0;
  pf->close_sent = 1;
  uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
  return queue_frame(pf, KUBE_WS_CLOSE, p, sizeof(p));
}

/* Pod data to the local socket. */
static int to_local(const char *data, size_t len, void *arg) {
  kube_portforward *pf = arg;
  if (pf->local_gone) return 0;
  while (len > 0) {
    ssize_t n = send(pf->fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      /* The local client left: what the pod still sends has nowhere to go. */
      pf->local_gone = 1;
      return 0;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

static int on_message(void *arg, kube_ws_opcode op, const uint8_t *data, size_t len) {
  kube_portforward *pf = arg;
  switch (op) {
    case KUBE_WS_BINARY:
      return kube_pf_demux_message(&pf->demux, data, len, to_local, pf, pf->why, sizeof(pf->why));
    case KUBE_WS_PING: return queue_frame(pf, KUBE_WS_PONG, data, len);
    case KUBE_WS_PONG: return 0;
    case KUBE_WS_CLOSE: {
      int code;
      const char *reason;
      size_t rlen;
      pf->close_received = 1;
      if (kube_ws_close_parse(data, len, &code, &reason, &rlen)) {
        snprintf(pf->why, sizeof(pf->why), "a malformed close frame");
        queue_close(pf, KUBE_WS_CLOSE_PROTOCOL);
        return CUBIT_EINVAL;
      }
      if (code != 0 && code != KUBE_WS_CLOSE_NORMAL)
        snprintf(pf->why, sizeof(pf->why), "the API server closed the stream: %d %.*s", code, (int)rlen, reason);
      return queue_close(pf, KUBE_WS_CLOSE_NORMAL);
    }
    default:
      snprintf(pf->why, sizeof(pf->why), "a text message on the binary protocol %s", KUBE_PF_PROTOCOL);
      return CUBIT_EINVAL;
  }
}

/* Sends what is queued without blocking; 0 with pf->out possibly not empty. */
static int flush_some(kube_portforward *pf, kube_status *st) {
  while (pf->out.len > 0) {
    size_t n = 0;
    CURLcode cc = curl_easy_send(pf->easy, pf->out.data, pf->out.len, &n);
    if (cc == CURLE_AGAIN) return 0;
    if (cc != CURLE_OK) {
      snprintf(st->message, sizeof(st->message), "sending to the API server: %s", curl_easy_strerror(cc));
      return CUBIT_ECONNECT;
    }
    buf_consume(&pf->out, n);
  }
  return 0;
}

/* Reads and decodes all the server has sent; *eof at the end of the
 * connection. */
static int from_server(kube_portforward *pf, int *eof, kube_status *st) {
  char chunk[65536];
  for (;;) {
    size_t n;
    CURLcode cc = recv_some(pf, chunk, sizeof(chunk), &n);
    if (cc == CURLE_AGAIN) return 0;
    if (cc != CURLE_OK) {
      snprintf(st->message, sizeof(st->message), "reading from the API server: %s", curl_easy_strerror(cc));
      return CUBIT_ECONNECT;
    }
    if (n == 0) {
      *eof = 1;
      return 0;
    }
    int rc = kube_ws_feed(&pf->dec, chunk, n, on_message, pf, pf->why, sizeof(pf->why));
    if (rc) {
      snprintf(st->message, sizeof(st->message), "port-forward stream: %s", pf->why);
      return rc;
    }
    if (pf->close_received) return 0;
  }
}

int kube_portforward_pump(kube_portforward *pf, int fd, int stop_fd, kube_status *st) {
  kube_status local;
  if (st == NULL) st = &local;
  memset(st, 0, sizeof(*st));
  pf->fd = fd;
  int rc = 0, eof = 0, local_eof = 0;
  if (pf->early.len) {
    rc = kube_ws_feed(&pf->dec, pf->early.data, pf->early.len, on_message, pf, pf->why, sizeof(pf->why));
    buf_reset(&pf->early);
    if (rc) snprintf(st->message, sizeof(st->message), "port-forward stream: %s", pf->why);
  }
  /* One frame's worth of local bytes, behind the channel byte. */
  uint8_t chunk[1 + 32768];
  chunk[0] = KUBE_PF_DATA;
  while (rc == 0 && !eof && !pf->close_received && !pf->local_gone) {
    rc = flush_some(pf, st);
    if (rc) break;
    /* Local bytes are read only while the server keeps up. */
    int read_local = !local_eof && !pf->close_sent && pf->out.len < PF_MAX_MESSAGE;
    struct pollfd p[3] = {
        {.fd = pf->sock, .events = (short)(POLLIN | (pf->out.len ? POLLOUT : 0))},
        {.fd = read_local ? fd : -1, .events = POLLIN},
        {.fd = stop_fd, .events = POLLIN},
    };
    int n = poll(p, 3, pf->close_sent ? PF_CLOSE_WAIT_MS : -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(st->message, sizeof(st->message), "poll: %s", strerror(errno));
      rc = CUBIT_EIO;
      break;
    }
    if (n == 0) break; /* the server never answered our close */
    if (p[2].revents) {
      rc = queue_close(pf, KUBE_WS_CLOSE_NORMAL);
      if (rc == 0) rc = flush_some(pf, st);
      break;
    }
    if (p[0].revents) {
      rc = from_server(pf, &eof, st);
      if (rc) break;
    }
    if (p[1].revents) {
      ssize_t got = recv(fd, chunk + 1, sizeof(chunk) - 1, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        /* No half-close in this protocol: the local end ends the stream. */
        local_eof = 1;
        rc = queue_close(pf, KUBE_WS_CLOSE_NORMAL);
      } else {
        rc = queue_frame(pf, KUBE_WS_BINARY, chunk, (size_t)got + 1);
      }
    }
  }
  /* Our close (or the answer to the server's) goes out before we leave,
   * unless the connection already ended. */
  if (!eof && rc != CUBIT_ECONNECT)
    (void)queue_close(pf, rc == CUBIT_EINVAL ? KUBE_WS_CLOSE_PROTOCOL : KUBE_WS_CLOSE_NORMAL);
  if (!eof && pf->out.len && pf->easy) {
    kube_status ignored = {0};
    if (flush_some(pf, &ignored) == 0 && pf->out.len) (void)send_all(pf, pf->out.data, pf->out.len, 1000, &ignored);
  }
  if (rc == 0 && pf->demux.error.len) {
    snprintf(st->message, sizeof(st->message), "%.*s", (int)pf->demux.error.len, pf->demux.error.data);
    rc = CUBIT_EIO;
  } else if (rc == 0 && pf->why[0]) {
    snprintf(st->message, sizeof(st->message), "%s", pf->why);
    rc = CUBIT_EIO;
  }
  pf->fd = -1;
  return rc;
}
