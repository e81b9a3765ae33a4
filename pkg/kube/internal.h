/* Helpers shared by the files of pkg/kube, not used outside it. */
#ifndef CUBIT_KUBE_INTERNAL_H
#define CUBIT_KUBE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Base64 as kubeconfigs and ExecCredentials use it (RFC 4648 standard
 * alphabet, padded), over OpenSSL's block codec.
 *
 * Decodes 'in' (inlen bytes; ASCII whitespace anywhere is skipped, as YAML
 * folding may put spaces inside long values). Padding must be complete and
 * only at the end. On success *out is a malloc'ed buffer of *outlen bytes
 * plus a terminating NUL, owned by the caller. Returns 0, CUBIT_EINVAL
 * (not base64; *out untouched) or CUBIT_ENOMEM. */
int kube__base64_decode(const char *in, size_t inlen, char **out, size_t *outlen) CUBIT_WUR;

/* Encodes len bytes; returns a malloc'ed NUL-terminated string owned by the
 * caller, or NULL when out of memory. */
char *kube__base64_encode(const void *in, size_t len);

/* Reads the whole file at path (at most max bytes) into a malloc'ed buffer
 * with a terminating NUL, owned by the caller. Returns 0, CUBIT_EIO (with
 * the errno in *errno_out), CUBIT_ETOOBIG or CUBIT_ENOMEM; *out is set only
 * on success. Uses plain malloc: callers parse external input. */
int kube__read_file(const char *path, size_t max, char **out, size_t *outlen, int *errno_out) CUBIT_WUR;

/* Tests shorten the once-a-minute re-read of token files with this. */
typedef struct kube_creds kube_creds;
void kube__creds_set_token_reread_ms(kube_creds *c, int64_t ms);

#endif
