/* RFC 6455 client framing (websocket.h). */
#include "kube/websocket.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube/internal.h"

/* A frame's header is at most 2 + 8 bytes (a server sends no mask). */
#define WS_MAX_HEADER 14

int kube_ws_encode(cubit_buf *out, kube_ws_opcode opcode, int fin, const void *payload, size_t len,
                   const uint8_t mask[4]) {
  if ((opcode & 0x8) && (len > 125 || !fin)) return CUBIT_EINVAL;
  uint8_t h[WS_MAX_HEADER];
  size_t n = 0;
  h[n++] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
  if (len < 126) {
    h[n++] = (uint8_t)(0x80 | len);
  } else if (len <= 0xFFFF) {
    h[n++] = 0x80 | 126;
    h[n++] = (uint8_t)(len >> 8);
    h[n++] = (uint8_t)len;
  } else {
    h[n++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) h[n++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  memcpy(h + n, mask, 4);
  n += 4;
  int rc = buf_append(out, h, n);
  /* Masked through a small block so the payload is never copied whole. */
  const uint8_t *p = payload;
  uint8_t block[1024];
  for (size_t off = 0; rc == 0 && off < len;) {
    size_t take = len - off < sizeof(block) ? len - off : sizeof(block);
    for (size_t i = 0; i < take; i++) block[i] = p[off + i] ^ mask[(off + i) & 3];
    rc = buf_append(out, block, take);
    off += take;
  }
  return rc;
}

int kube_ws_close_parse(const uint8_t *payload, size_t len, int *code, const char **reason, size_t *reason_len) {
  *code = 0;
  *reason = "";
  *reason_len = 0;
  if (len == 0) return 0;
  if (len == 1) return CUBIT_EINVAL;
  int c = (payload[0] << 8) | payload[1];
  /* 1004-1006 and 1015 are reserved for reporting, never sent; below 1000
   * and from 1016 to 2999 are unassigned or the RFC's own. */
  int sendable = (c >= 1000 && c <= 1014 && c != 1004 && c != 1005 && c != 1006) || (c >= 3000 && c <= 4999);
  if (!sendable) return CUBIT_EINVAL;
  *code = c;
  *reason = (const char *)payload + 2;
  *reason_len = len - 2;
  return 0;
}

void kube_ws_decoder_init(kube_ws_decoder *d, size_t max_message) {
  memset(d, 0, sizeof(*d));
  d->max_message = max_message;
  buf_init(&d->in, max_message + WS_MAX_HEADER);
  buf_init(&d->message, max_message);
}

void kube_ws_decoder_free(kube_ws_decoder *d) {
  buf_free(&d->in);
  buf_free(&d->message);
}

#define FAIL(...)                         \
  do {                                    \
    snprintf(err, errlen, __VA_ARGS__);   \
    return CUBIT_EINVAL;                  \
  } while (0)

/* Decodes the frame at the start of d->in if it is whole: *used is its size
 * (0 when more bytes are needed). */
static int ws_frame(kube_ws_decoder *d, size_t max_message, size_t *used, kube_ws_message_cb cb, void *arg,
                    char *err, size_t errlen) {
  const uint8_t *b = (const uint8_t *)d->in.data;
  size_t have = d->in.len;
  *used = 0;
  if (have < 2) return 0;
  if (d->closed) FAIL("a frame after the close frame");
  int fin = b[0] & 0x80, op = b[0] & 0x0F;
  if (b[0] & 0x70) FAIL("reserved bits 0x%02x set in a frame (no extension was agreed)", b[0] & 0x70);
  if (b[1] & 0x80) FAIL("a masked frame from the server");
  if (op != KUBE_WS_CONTINUATION && op != KUBE_WS_TEXT && op != KUBE_WS_BINARY && op != KUBE_WS_CLOSE &&
      op != KUBE_WS_PING && op != KUBE_WS_PONG)
    FAIL("unknown opcode 0x%x", op);
  uint64_t plen = b[1] & 0x7F;
  size_t hlen = 2;
  if (plen == 126) {
    if (have < 4) return 0;
    plen = ((uint64_t)b[2] << 8) | b[3];
    hlen = 4;
    if (plen < 126) FAIL("a length of %llu given in 16 bits (not minimal)", (unsigned long long)plen);
  } else if (plen == 127) {
    if (have < 10) return 0;
    plen = 0;
    for (int i = 0; i < 8; i++) plen = (plen << 8) | b[2 + i];
    hlen = 10;
    if (plen >> 63) FAIL("a 64-bit length with its top bit set");
    if (plen <= 0xFFFF) FAIL("a length of %llu given in 64 bits (not minimal)", (unsigned long long)plen);
  }
  if (op & 0x8) {
    if (!fin) FAIL("a fragmented control frame (opcode 0x%x)", op);
    if (plen > 125) FAIL("a control frame of %llu bytes (at most 125)", (unsigned long long)plen);
  }
  if (plen > max_message) {
    snprintf(err, errlen, "a frame of %llu bytes (at most %zu)", (unsigned long long)plen, max_message);
    return CUBIT_ETOOBIG;
  }
  if (have - hlen < plen) return 0;
  const uint8_t *payload = b + hlen;
  size_t n = (size_t)plen;
  int rc = 0;
  if (op == KUBE_WS_CONTINUATION) {
    if (!d->fragmented) FAIL("a continuation frame with no message begun");
    rc = buf_append(&d->message, payload, n);
    if (rc == CUBIT_ETOOBIG) snprintf(err, errlen, "a message over %zu bytes", max_message);
    if (rc == 0 && fin) {
      rc = cb(arg, (kube_ws_opcode)d->fragmented, (const uint8_t *)d->message.data, d->message.len);
      d->fragmented = 0;
      buf_reset(&d->message);
    }
  } else if (op == KUBE_WS_TEXT || op == KUBE_WS_BINARY) {
    if (d->fragmented) FAIL("a new data message before the fragmented one ended");
    if (fin) {
      rc = cb(arg, (kube_ws_opcode)op, payload, n);
    } else {
      d->fragmented = op;
      rc = buf_append(&d->message, payload, n);
    }
  } else {
    if (op == KUBE_WS_CLOSE) d->closed = 1;
    rc = cb(arg, (kube_ws_opcode)op, payload, n);
  }
  *used = hlen + n;
  return rc;
}

int kube_ws_feed(kube_ws_decoder *d, const void *data, size_t len, kube_ws_message_cb cb, void *arg, char *err,
                 size_t errlen) {
  /* The input buffer holds one frame at most plus its header. */
  size_t max_message = d->max_message, in_max = max_message + WS_MAX_HEADER;
  const char *p = data;
  while (len > 0) {
    size_t room = in_max - d->in.len;
    size_t take = len < room ? len : room;
    int rc = buf_append(&d->in, p, take);
    if (rc) return rc;
    p += take;
    len -= take;
    for (;;) {
      size_t used;
      rc = ws_frame(d, max_message, &used, cb, arg, err, errlen);
      if (used) buf_consume(&d->in, used);
      if (rc) return rc;
      if (used == 0) break;
    }
    /* A full buffer holding no whole frame cannot happen (a frame over
     * the cap is refused from its header), but never spin on it. */
    if (len > 0 && d->in.len == in_max) {
      snprintf(err, errlen, "a frame over %zu bytes", max_message);
      return CUBIT_ETOOBIG;
    }
  }
  return 0;
}

int kube_ws_accept_for(const char *key, char out[29]) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  size_t klen = strlen(key);
  char *joined = malloc(klen + sizeof(guid));
  if (joined == NULL) return CUBIT_ENOMEM;
  memcpy(joined, key, klen);
  memcpy(joined + klen, guid, sizeof(guid));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  int ok = EVP_Digest(joined, klen + sizeof(guid) - 1, digest, &dlen, EVP_sha1(), NULL);
  free(joined);
  if (!ok || dlen != 20) return CUBIT_ENOMEM;
  char *b64 = kube__base64_encode(digest, dlen);
  if (b64 == NULL) return CUBIT_ENOMEM;
  snprintf(out, 29, "%s", b64);
  free(b64);
  return 0;
}

/* The value of header name in head (lines after the status line), trimmed,
 * into out; 0 when absent. */
static int header_value(const char *head, size_t len, const char *name, char *out, size_t outlen) {
  size_t nlen = strlen(name);
  const char *end = head + len;
  const char *line = memchr(head, '\n', len);
  while (line && line + 1 < end) {
    line++;
    const char *eol = memchr(line, '\n', (size_t)(end - line));
    if (eol == NULL) eol = end;
    if ((size_t)(eol - line) > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
      const char *v = line + nlen + 1, *ve = eol;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      snprintf(out, outlen, "%.*s", (int)(ve - v), v);
      return 1;
    }
    line = eol < end ? eol : NULL;
  }
  return 0;
}

/* Whether the comma-separated list has token (case-insensitive). */
static int has_token(const char *list, const char *token) {
  size_t tlen = strlen(token);
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == ',') p++;
    const char *e = p;
    while (*e && *e != ',') e++;
    const char *te = e;
    while (te > p && te[-1] == ' ') te--;
    if ((size_t)(te - p) == tlen && strncasecmp(p, token, tlen) == 0) return 1;
    p = e;
  }
  return 0;
}

int kube_ws_handshake_parse(const char *head, size_t len, const char *key, const char *protocol, long *status,
                            long *content_length, char *err, size_t errlen) {
  *status = 0;
  *content_length = -1;
  int major, minor, code, off = 0;
  char line[64];
  snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1), head);
  if (sscanf(line, "HTTP/%1d.%1d %3d%n", &major, &minor, &code, &off) != 3 || code < 100 || code > 599 ||
      (line[off] != ' ' && line[off] != '\r' && line[off] != '\n' && line[off] != '\0'))
    FAIL("the answer is not HTTP: \"%.40s\"", line);
  *status = code;
  char v[256];
  if (code != 101) {
    if (header_value(head, len, "Content-Length", v, sizeof(v))) {
      char *e;
      long cl = strtol(v, &e, 10);
      if (*v == '\0' || *e != '\0' || cl < 0) FAIL("Content-Length \"%s\" is not a length", v);
      *content_length = cl;
    }
    return 0;
  }
  if (!header_value(head, len, "Upgrade", v, sizeof(v))) *v = '\0';
  if (strcasecmp(v, "websocket") != 0)
    FAIL("the 101 answer does not upgrade to websocket (Upgrade: \"%s\")", v);
  if (!header_value(head, len, "Connection", v, sizeof(v)) || !has_token(v, "upgrade"))
    FAIL("the 101 answer's Connection header lacks \"Upgrade\"");
  char want[29];
  int rc = kube_ws_accept_for(key, want);
  if (rc) return rc;
  if (!header_value(head, len, "Sec-WebSocket-Accept", v, sizeof(v))) *v = '\0';
  if (strcmp(v, want) != 0)
    FAIL("Sec-WebSocket-Accept \"%s\" does not answer our key (want \"%s\")", v, want);
  if (protocol) {
    if (!header_value(head, len, "Sec-WebSocket-Protocol", v, sizeof(v))) *v = '\0';
    if (strcmp(v, protocol) != 0) FAIL("the server chose subprotocol \"%s\", not \"%s\"", v, protocol);
  }
  return 0;
}
