/* The client side of RFC 6455 WebSocket framing, without I/O: what the
 * port-forward stream (kube/portforward.h) sends and reads over a
 * connection libcurl opened (libcurl 7.88 has no WebSocket support of its
 * own).
 *
 * A client masks every frame it sends; a server never masks. The decoder
 * joins a fragmented data message, hands control frames (ping, pong, close)
 * on as they come, even between the fragments of a message, and refuses
 * what RFC 6455 calls a protocol error with a reason. */
#ifndef CUBIT_KUBE_WEBSOCKET_H
#define CUBIT_KUBE_WEBSOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

typedef enum {
  KUBE_WS_CONTINUATION = 0x0,
  KUBE_WS_TEXT = 0x1,
  KUBE_WS_BINARY = 0x2,
  KUBE_WS_CLOSE = 0x8,
  KUBE_WS_PING = 0x9,
  KUBE_WS_PONG = 0xA
} kube_ws_opcode;

/* Close codes (RFC 6455 section 7.4.1) the client sends. */
enum { KUBE_WS_CLOSE_NORMAL = 1000, KUBE_WS_CLOSE_PROTOCOL = 1002 };

/* Appends one frame to out as a client sends it: FIN set, the payload
 * XOR-ed with mask. fin = 0 starts or continues a fragmented message (the
 * tests' way of making fragments; the stream itself never fragments).
 * Returns 0, CUBIT_EINVAL (a control frame longer than 125 bytes or
 * fragmented) or buf_append's code. */
int kube_ws_encode(cubit_buf *out, kube_ws_opcode opcode, int fin, const void *payload, size_t len,
                   const uint8_t mask[4]) CUBIT_WUR;

/* A close frame's payload: code (0 when the payload is empty) and reason
 * (borrowed, not NUL-terminated). Returns 0 or CUBIT_EINVAL (one byte, or a
 * code a peer may not send). */
int kube_ws_close_parse(const uint8_t *payload, size_t len, int *code, const char **reason,
                        size_t *reason_len) CUBIT_WUR;

/* One complete message: a data message (TEXT or BINARY, its fragments
 * joined) or a control frame. data is valid during the call only. A
 * non-zero return stops kube_ws_feed with that code. */
typedef int (*kube_ws_message_cb)(void *arg, kube_ws_opcode opcode, const uint8_t *data, size_t len);

typedef struct kube_ws_decoder {
  cubit_buf in;      /* private: bytes not yet a whole frame */
  cubit_buf message; /* private: the fragments of the data message so far */
  int fragmented;    /* private: the opcode of the message being joined, 0 = none */
  int closed;        /* read-only: a close frame was handed on; later bytes are refused */
  size_t max_message; /* private */
} kube_ws_decoder;

/* max_message caps a data message (joined) and so a frame. */
void kube_ws_decoder_init(kube_ws_decoder *d, size_t max_message);
void kube_ws_decoder_free(kube_ws_decoder *d);

/* Takes len more bytes from the server, in any pieces; hands each complete
 * message to cb. Returns 0; CUBIT_EINVAL for a protocol error (a masked
 * frame, reserved bits, an unknown opcode, a control frame fragmented or
 * over 125 bytes, a continuation with no message begun, a new data message
 * before the last one ended, a non-minimal or 64-bit length with its top
 * bit set, bytes after a close frame) with the reason in err; CUBIT_ETOOBIG
 * for a message over the cap; or cb's code. After an error the decoder is
 * only fit for kube_ws_decoder_free. */
int kube_ws_feed(kube_ws_decoder *d, const void *data, size_t len, kube_ws_message_cb cb, void *arg, char *err,
                 size_t errlen) CUBIT_WUR;

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 section 4.2.2):
 * base64(SHA-1(key + the RFC's GUID)), 28 characters and a NUL. Returns 0 or
 * CUBIT_ENOMEM. */
int kube_ws_accept_for(const char *key, char out[29]) CUBIT_WUR;

/* The head of the server's answer to the opening handshake ("HTTP/1.1 101
 * ...\r\n...headers...\r\n\r\n", len bytes, no body): *status is the HTTP
 * status (0 when the status line is not HTTP). For a 101 the answer must
 * upgrade to "websocket", carry the Sec-WebSocket-Accept of key and select
 * protocol (Sec-WebSocket-Protocol); otherwise CUBIT_EINVAL with the reason
 * in err. For another status it returns 0 and *content_length is the
 * Content-Length (-1 when absent) so the caller can read the Status body. */
int kube_ws_handshake_parse(const char *head, size_t len, const char *key, const char *protocol, long *status,
                            long *content_length, char *err, size_t errlen) CUBIT_WUR;

#endif
