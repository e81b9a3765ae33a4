/* `open`'s port-forward: a listener on 127.0.0.1 and, for every connection
 * it accepts, a thread that streams it to the pod (kube/portforward.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "kube/portforward.h"
#include "util/alloc.h"

int cli_forward_listen(int port, int *fd, int *bound, char *err, size_t errlen) {
  *fd = -1;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return cubit_errorf(err, errlen, CUBIT_EIO, "socket: %s", strerror(errno));
  int one = 1;
  (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16) ||
      getsockname(s, (struct sockaddr *)&a, &alen)) {
    int e = errno;
    close(s);
    return cubit_errorf(err, errlen, CUBIT_EIO, "listening on 127.0.0.1:%d: %s", port, strerror(e));
  }
  *fd = s;
  *bound = ntohs(a.sin_port);
  return 0;
}

/* One accepted connection and the thread that streams it. */
typedef struct fwd_conn {
  const cli_forward_target *t;
  int fd;
  int stop_fd;
  unsigned long n;
  pthread_t thread;
  pthread_mutex_t *lock; /* guards done and the log */
  FILE *log;
  int done;
  struct fwd_conn *next;
} fwd_conn;

static void *stream_one(void *arg) {
  fwd_conn *fc = arg;
  const cli_forward_target *t = fc->t;
  kube_portforward *pf = NULL;
  kube_status st;
  int rc = kube_portforward_open(t->client, t->ns, t->pod, t->port, &pf, &st);
  if (rc == 0) rc = kube_portforward_pump(pf, fc->fd, fc->stop_fd, &st);
  kube_portforward_free(pf);
  close(fc->fd);
  pthread_mutex_lock(fc->lock);
  if (rc)
    fprintf(fc->log, "kubectl-cubit: connection %lu to %s/%s:%u: %s\n", fc->n, t->ns, t->pod, (unsigned)t->port,
            st.message);
  fc->done = 1;
  pthread_mutex_unlock(fc->lock);
  return NULL;
}

/* Joins and frees the connections whose stream ended (all when every is
 * set: after stop, each ends by itself). */
static fwd_conn *reap(fwd_conn *list, pthread_mutex_t *lock, int every) {
  fwd_conn **p = &list;
  while (*p) {
    fwd_conn *fc = *p;
    pthread_mutex_lock(lock);
    int done = fc->done;
    pthread_mutex_unlock(lock);
    if (done || every) {
      pthread_join(fc->thread, NULL);
      *p = fc->next;
      free(fc);
    } else {
      p = &fc->next;
    }
  }
  return list;
}

int cli_forward_serve(const cli_forward_target *t, int listen_fd, int stop_fd, FILE *log) {
  pthread_mutex_t lock;
  pthread_mutex_init(&lock, NULL);
  fwd_conn *conns = NULL;
  unsigned long n = 0;
  int rc = 0;
  for (;;) {
    struct pollfd p[2] = {{.fd = listen_fd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
    int r = poll(p, 2, 1000);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rc = CUBIT_EIO;
      break;
    }
    conns = reap(conns, &lock, 0);
    if (p[1].revents) break;
    if (!p[0].revents) continue;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) continue; /* the client gave up before we took it */
    fwd_conn *fc = xcalloc(1, sizeof(*fc));
    *fc = (fwd_conn){.t = t, .fd = fd, .stop_fd = stop_fd, .n = ++n, .lock = &lock, .log = log, .next = conns};
    pthread_mutex_lock(&lock);
    fprintf(log, "Handling connection %lu for %u\n", fc->n, (unsigned)t->port);
    pthread_mutex_unlock(&lock);
    if (pthread_create(&fc->thread, NULL, stream_one, fc)) {
      close(fd);
      free(fc);
      continue;
    }
    conns = fc;
  }
  /* stop_fd stays readable: every stream sees it and ends. */
  conns = reap(conns, &lock, 1);
  pthread_mutex_destroy(&lock);
  return rc;
}
