#include "kube/client.h"
#include "kube/internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int is_b64_char(unsigned char c) {
  return isalnum(c) || c == '+' || c == '/';
}

int kube__base64_decode(const char *in, size_t inlen, char **out, size_t *outlen) {
  if (inlen > INT32_MAX) return CUBIT_EINVAL; /* EVP_DecodeBlock takes an int */
  char *clean = malloc(inlen + 1);
  if (clean == NULL) return CUBIT_ENOMEM;
  size_t n = 0, pad = 0;
  int err = 0;
  for (size_t i = 0; i < inlen; i++) {
    unsigned char c = (unsigned char)in[i];
    if (isspace(c)) continue;
    if (c == '=') {
      pad++;
    } else if (!is_b64_char(c) || pad > 0) {
      err = CUBIT_EINVAL; /* a stray byte, or data after padding */
      goto out;
    }
    clean[n++] = (char)c;
  }
  /* EVP_DecodeBlock neither insists on complete quads nor reports padding, so
   * both are checked here and the padding bytes are dropped from its count. */
  if (n % 4 != 0 || pad > 2) {
    err = CUBIT_EINVAL;
    goto out;
  }
  char *dec = malloc(n / 4 * 3 + 1);
  if (dec == NULL) {
    err = CUBIT_ENOMEM;
    goto out;
  }
  int m = n ? EVP_DecodeBlock((unsigned char *)dec, (const unsigned char *)clean, (int)n) : 0;
  if (m < 0 || (size_t)m < pad) {
    free(dec);
    err = CUBIT_EINVAL;
    goto out;
  }
  *outlen = (size_t)m - pad;
  dec[*outlen] = '\0';
  *out = dec;
out:
  free(clean);
  return err;
}

char *kube__base64_encode(const void *in, size_t len) {
  if (len > INT32_MAX / 4 * 3 - 3) return NULL;
  char *s = malloc((len + 2) / 3 * 4 + 1);
  if (s == NULL) return NULL;
  EVP_EncodeBlock((unsigned char *)s, in, (int)len); /* writes the NUL too */
  return s;
}

int kube_secret_data(const json_t *secret, const char *key, char **out, size_t *outlen) {
  *out = NULL;
  *outlen = 0;
  const char *v = json_string_value(json_object_get(json_object_get(secret, "data"), key));
  if (v == NULL) return CUBIT_ENOTFOUND;
  return kube__base64_decode(v, strlen(v), out, outlen);
}
