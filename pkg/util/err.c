#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *cubit_strerror(int code) {
  switch (code) {
    case CUBIT_OK: return "ok";
    case CUBIT_ENOMEM: return "out of memory";
    case CUBIT_EINVAL: return "invalid argument";
    case CUBIT_ETOOBIG: return "input too large";
    case CUBIT_EIO: return "i/o error";
    case CUBIT_ECONNECT: return "cannot connect to server";
    case CUBIT_ETLS: return "tls error";
    case CUBIT_ESHUTDOWN: return "shutting down";
    case CUBIT_ENOTSUP: return "not supported";
    case CUBIT_EEXEC: return "exec credential plugin failed";
    case CUBIT_ENOTFOUND: return "NotFound";
    case CUBIT_EALREADYEXISTS: return "AlreadyExists";
    case CUBIT_ECONFLICT: return "Conflict";
    case CUBIT_EGONE: return "Gone";
    case CUBIT_EINVALID: return "Invalid";
    case CUBIT_EFORBIDDEN: return "Forbidden";
    case CUBIT_EUNAUTHORIZED: return "Unauthorized";
    case CUBIT_ETOOMANYREQUESTS: return "TooManyRequests";
    case CUBIT_ETIMEOUT: return "Timeout";
    case CUBIT_ESERVER: return "InternalError";
    case CUBIT_EBADREQUEST: return "BadRequest";
    case CUBIT_EMETHOD: return "MethodNotAllowed";
    case CUBIT_EUNSUPPORTEDMEDIA: return "UnsupportedMediaType";
  }
  return "unknown error";
}

int cubit_errorf(char *errbuf, size_t errlen, int code, const char *fmt, ...) {
  if (errbuf && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}
