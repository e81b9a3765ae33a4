/* Whole-file reads for kubeconfigs, the files they reference, and token files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "kube/internal.h"

int kube__read_file(const char *path, size_t max, char **out, size_t *outlen, int *errno_out) {
  *errno_out = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *errno_out = errno;
    return CUBIT_EIO;
  }
  int err = 0;
  size_t cap = 4096, len = 0;
  char *data = malloc(cap);
  if (data == NULL) {
    err = CUBIT_ENOMEM;
    goto out;
  }
  for (;;) {
    if (len + 1 == cap) {
      if (cap > max) {
        err = CUBIT_ETOOBIG;
        goto out;
      }
      char *d = realloc(data, cap * 2);
      if (d == NULL) {
        err = CUBIT_ENOMEM;
        goto out;
      }
      data = d;
      cap *= 2;
    }
    ssize_t n = read(fd, data + len, cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *errno_out = errno;
      err = CUBIT_EIO;
      goto out;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  if (len > max) {
    err = CUBIT_ETOOBIG;
    goto out;
  }
  data[len] = '\0';
  *out = data;
  *outlen = len;
  data = NULL;
out:
  free(data);
  close(fd);
  return err;
}
