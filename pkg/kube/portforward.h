/* Port-forward to a pod through the API server: one stream per local
 * connection, over pods/NAME/portforward.
 *
 * The stream is a WebSocket (websocket.h) on a libcurl connection opened
 * with the client's TLS trust, identity and credentials, speaking the
 * kubelet's channel protocol "v4.channel.k8s.io": every binary message
 * begins with a channel byte, channel 0 carries the port's data both ways
 * and channel 1 the kubelet's error text; the first two bytes the server
 * sends on each channel are the port, little endian. The API server passes
 * that protocol through to the kubelet (its PortForwardWebsockets
 * translation is only for the SPDY-tunnelling subprotocol kubectl speaks).
 * The protocol has no half-close: a local client that ends its side ends
 * the stream. */
#ifndef CUBIT_KUBE_PORTFORWARD_H
#define CUBIT_KUBE_PORTFORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "kube/client.h"
#include "util/buf.h"
#include "util/err.h"

#define KUBE_PF_PROTOCOL "v4.channel.k8s.io"
/* What the error channel may say (the kubelet writes one sentence). */
#define KUBE_PF_MAX_ERROR 4096

enum { KUBE_PF_DATA = 0, KUBE_PF_ERROR = 1 };

/* The channel layer of one port's stream, without I/O. */
typedef struct kube_pf_demux {
  uint16_t port;        /* read-only: the port asked for */
  uint8_t prefix[2][2]; /* private: the port bytes each channel began with */
  size_t prefix_len[2]; /* private */
  cubit_buf error;      /* read-only: what the error channel said so far */
} kube_pf_demux;

void kube_pf_demux_init(kube_pf_demux *d, uint16_t port);
void kube_pf_demux_free(kube_pf_demux *d);

/* One binary message from the server (channel byte, then the channel's
 * bytes). A channel's first two bytes, in as many messages as they come,
 * must be d->port (little endian); data bytes after them go to on_data,
 * error bytes are kept in d->error (at most KUBE_PF_MAX_ERROR). Returns 0,
 * CUBIT_EINVAL (an empty message, a channel other than 0 and 1, another
 * port) with the reason in err, or on_data's non-zero code. */
int kube_pf_demux_message(kube_pf_demux *d, const uint8_t *msg, size_t len, kube_stream_cb on_data, void *arg,
                          char *err, size_t errlen) CUBIT_WUR;

typedef struct kube_portforward kube_portforward;

/* Opens a stream to port of pod ns/pod: connects to the API server, sends
 * the WebSocket upgrade (retried once after a 401 when the credentials come
 * from a token file or an exec plugin) and checks the answer. *out is the
 * caller's (kube_portforward_free). An error answer gives the Status' code
 * and message in st as the verbs do (CUBIT_ENOTFOUND for a missing pod, ...);
 * an answer that is not a WebSocket upgrade gives CUBIT_ENOTSUP. */
int kube_portforward_open(kube_client *c, const char *ns, const char *pod, uint16_t port, kube_portforward **out,
                          kube_status *st) CUBIT_WUR;

/* Copies bytes between fd (a connected socket) and the stream until one of
 * them ends or stop_fd (-1 = none) becomes readable; the stream is then
 * closed with a close frame. Returns 0 when either side ended normally or
 * stop_fd fired, CUBIT_EIO with the kubelet's error-channel text in
 * st->message when it said something (the pod's port refused the
 * connection, ...), or a transport/protocol code with the reason. Call once. */
int kube_portforward_pump(kube_portforward *pf, int fd, int stop_fd, kube_status *st) CUBIT_WUR;

void kube_portforward_free(kube_portforward *pf);

#endif
