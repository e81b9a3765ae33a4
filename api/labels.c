#include <ctype.h>
#include <string.h>

#include "api/labels.h"

int cubit_label_value(const char *in, char *out, size_t outlen) {
  size_t n = 0, cap = outlen - 1 < 63 ? outlen - 1 : 63;
  for (const char *p = in ? in : ""; *p && n < cap; p++) {
    unsigned char c = (unsigned char)*p;
    int ok = isalnum(c) || c == '.' || c == '_' || c == '-';
    if (n == 0 && !isalnum(c)) continue; /* must start alphanumeric */
    out[n++] = ok ? (char)c : '-';
  }
  while (n > 0 && !isalnum((unsigned char)out[n - 1])) n--;
  out[n] = '\0';
  return n ? 0 : -1;
}

void cubit_labels_inherit(json_t *to, const json_t *from) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)from, key, v) {
    if (strncmp(key, "cubit.dev/", 10) == 0 && json_is_string(v) && json_object_get(to, key) == NULL)
      json_object_set(to, key, v);
  }
}
