/* Result codes shared by every Cubit module.
 *
 * Functions return 0 on success or one of these negative codes, like libuv.
 * The API error codes mirror k8s.io/apimachinery's StatusReason values so a
 * reconciler can branch on them (kube_is_not_found() and friends are thin
 * wrappers). cubit_strerror() turns any code into text. */
#ifndef CUBIT_UTIL_ERR_H
#define CUBIT_UTIL_ERR_H

#include <stddef.h>

#define CUBIT_WUR __attribute__((warn_unused_result))

enum {
  CUBIT_OK = 0,
  /* local failures */
  CUBIT_ENOMEM = -1,        /* an allocation failed (fallible paths only) */
  CUBIT_EINVAL = -2,        /* bad argument or malformed input */
  CUBIT_ETOOBIG = -3,       /* input exceeds a configured cap */
  CUBIT_EIO = -4,           /* file or socket I/O failed */
  CUBIT_ECONNECT = -5,      /* could not reach the server (transport) */
  CUBIT_ETLS = -6,          /* TLS handshake or certificate problem */
  CUBIT_ESHUTDOWN = -7,     /* the component is shutting down */
  CUBIT_ENOTSUP = -8,       /* the API or feature is not available */
  CUBIT_EEXEC = -9,         /* an exec credential plugin failed */
  /* API errors, one per metav1.StatusReason the runtime acts upon */
  CUBIT_ENOTFOUND = -20,        /* 404 NotFound */
  CUBIT_EALREADYEXISTS = -21,   /* 409 AlreadyExists */
  CUBIT_ECONFLICT = -22,        /* 409 Conflict */
  CUBIT_EGONE = -23,            /* 410 Gone / Expired */
  CUBIT_EINVALID = -24,         /* 422 Invalid */
  CUBIT_EFORBIDDEN = -25,       /* 403 Forbidden */
  CUBIT_EUNAUTHORIZED = -26,    /* 401 Unauthorized */
  CUBIT_ETOOMANYREQUESTS = -27, /* 429 TooManyRequests (honour Retry-After) */
  CUBIT_ETIMEOUT = -28,         /* 504 / Timeout / ServerTimeout, or a local timeout */
  CUBIT_ESERVER = -29,          /* 5xx InternalError / ServiceUnavailable */
  CUBIT_EBADREQUEST = -30,      /* 400 BadRequest */
  CUBIT_EMETHOD = -31,          /* 405 MethodNotAllowed */
  CUBIT_EUNSUPPORTEDMEDIA = -32 /* 415 UnsupportedMediaType */
};

/* Returns a static string describing 'code'. Never NULL. */
const char *cubit_strerror(int code);

/* Writes a message into errbuf (when errbuf is not NULL and errlen > 0)
 * and returns code, so that a failing function can report and return in
 * one statement: return cubit_errorf(err, errlen, CUBIT_EINVAL, "...", ...); */
int cubit_errorf(char *errbuf, size_t errlen, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
