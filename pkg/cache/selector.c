/* Label selectors, as kubectl and the API server accept them:
 *   "app=web,tier!=db,env in (prod,staging),!legacy,release"
 * Parsed and matched in one pass; the selector is short, objects many, but
 * parsing is cheap next to hashing a label map. */
#include <ctype.h>
#include <string.h>

#include "cache/store.h"
#include "util/json.h"

enum op { OP_EXISTS, OP_NOT_EXISTS, OP_EQ, OP_NE, OP_IN, OP_NOTIN };

static const char *skip_ws(const char *p) {
  while (*p && isspace((unsigned char)*p)) p++;
  return p;
}

static int is_key_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '/';
}

/* Reads a key or value token into out. Values may be empty ("a="). */
static const char *token(const char *p, char *out, size_t cap) {
  size_t n = 0;
  while (*p && is_key_char(*p)) {
    if (n + 1 >= cap) return NULL;
    out[n++] = *p++;
  }
  out[n] = '\0';
  return p;
}

static int eval(enum op op, const char *label, const char *value, const char set[][64], size_t nset) {
  switch (op) {
    case OP_EXISTS: return label != NULL;
    case OP_NOT_EXISTS: return label == NULL;
    case OP_EQ: return label != NULL && strcmp(label, value) == 0;
    case OP_NE: return label == NULL || strcmp(label, value) != 0;
    case OP_IN:
    case OP_NOTIN: {
      int in = 0;
      for (size_t i = 0; label && i < nset; i++) in |= strcmp(label, set[i]) == 0;
      return op == OP_IN ? in : !in;
    }
  }
  return 0;
}

int cache_selector_matches(const char *selector, const json_t *obj, int *match) {
  json_t *labels = js_get(obj, "metadata.labels");
  const char *p = skip_ws(selector ? selector : "");
  *match = 1;
  while (*p) {
    char key[320], value[64], set[16][64];
    size_t nset = 0;
    enum op op;
    int negate = 0;
    if (*p == '!') {
      negate = 1;
      p = skip_ws(p + 1);
    }
    p = token(p, key, sizeof(key));
    if (p == NULL || key[0] == '\0') return CUBIT_EINVAL;
    p = skip_ws(p);
    value[0] = '\0';
    if (negate) {
      op = OP_NOT_EXISTS;
    } else if (strncmp(p, "==", 2) == 0 || strncmp(p, "!=", 2) == 0 || *p == '=') {
      op = *p == '!' ? OP_NE : OP_EQ;
      p += (*p == '=' && p[1] != '=') ? 1 : 2;
      p = token(skip_ws(p), value, sizeof(value));
      if (p == NULL) return CUBIT_EINVAL;
    } else if (strncmp(p, "in", 2) == 0 || strncmp(p, "notin", 5) == 0) {
      op = p[0] == 'i' ? OP_IN : OP_NOTIN;
      p = skip_ws(p + (op == OP_IN ? 2 : 5));
      if (*p != '(') return CUBIT_EINVAL;
      p = skip_ws(p + 1);
      for (;;) {
        if (nset == 16) return CUBIT_EINVAL;
        p = token(p, set[nset], sizeof(set[0]));
        if (p == NULL) return CUBIT_EINVAL;
        nset++;
        p = skip_ws(p);
        if (*p == ',') {
          p = skip_ws(p + 1);
          continue;
        }
        if (*p != ')') return CUBIT_EINVAL;
        p++;
        break;
      }
    } else {
      op = OP_EXISTS;
    }
    const char *label = json_string_value(json_object_get(labels, key));
    if (!eval(op, label, value, (const char(*)[64])set, nset)) *match = 0;
    p = skip_ws(p);
    if (*p == ',') p = skip_ws(p + 1);
    else if (*p) return CUBIT_EINVAL;
  }
  return 0;
}
