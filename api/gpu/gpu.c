/* The GPU grammar, the profile and the translation; see gpu.h.
 *
 * What the systems' resources mean, from their own documentation and code:
 *   - HAMi (docs/config.md, userguide "Allocate device core usage" and
 *     "Allocate device memory by percentage"): nvidia.com/gpu is the number
 *     of vGPUs, each on its own card; nvidia.com/gpucores is the percentage
 *     of each card's compute ("each unit equals 1% device cores", 100 = the
 *     card exclusively); nvidia.com/gpumem is each card's memory in MB and
 *     nvidia.com/gpumem-percentage the percentage of each card's memory (the
 *     two exclude each other); without either a task gets the whole memory
 *     (nvidia.defaultMem 0 means 100%), and a pod asking for gpumem or
 *     gpucores without nvidia.com/gpu gets nvidia.com/gpu: 1 from HAMi's
 *     webhook (defaultGPUNum).
 *   - Volcano vGPU (volcano pkg/scheduler/api/devices/nvidia/vgpu,
 *     resourcereqs, and docs/user-guide/how_to_use_volcano_vgpu.md):
 *     volcano.sh/vgpu-number is the number of cards; vgpu-memory (MB) and
 *     vgpu-memory-percentage are per card, and without either a card's whole
 *     memory is taken; vgpu-cores is the percentage of each card's compute
 *     (absent: 0, no reservation; 100: "wants this card exclusively"); a
 *     container with vgpu-memory but no vgpu-number asks for one card. The
 *     scheduler leaves vgpu-memory, -memory-percentage and -cores out of the
 *     node-capacity check (GetIgnoredDevices), so only vgpu-number must be
 *     on the node.
 *   - TKE GPU Manager (tkestack/tke hack/addon/readme/GPUManager.md): each
 *     card is 100 units of tencent.com/vcuda-core; only fractions between 0
 *     and 1 and whole multiples of a card are allowed; tencent.com/vcuda-memory
 *     counts 256 MiB units.
 * Cubit takes the systems' "MB" as MiB (2^20 bytes), the unit the card
 * memory of NVML-based device plugins is counted in.
 *
 * Rounding: a fraction becomes a whole percent or memory unit rounded down
 * (at least 1), so that n requests of 1/n of a card always fit one card;
 * the quota counts what the translation wrote (gpu_cards_milli), so what is
 * charged is what is given. */
#include "api/gpu/gpu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/quantity.h"

#define MIB ((int64_t)1 << 20)
#define VCUDA_UNIT (256 * MIB)
#define DEFAULT_MODEL_LABEL "nvidia.com/gpu.product"
#define MAX_MODELS 256
#define RES_CAP ((int64_t)1 << 32)

__extension__ typedef __int128 i128;

typedef struct gpu_model {
  char name[GPU_MODEL_LEN];
  char label_value[64];
  int64_t memory; /* bytes of one card, 0 = unknown */
} gpu_model;

struct gpu_profile {
  gpu_system system;
  char model_label[320];
  char default_model[GPU_MODEL_LEN]; /* "" when unset */
  gpu_hami_memory_mode hami_mode;
  size_t nmodels;
  gpu_model models[];
};

static const char *const vendors[] = {"nvidia", NULL};

/* A value as a message quotes it: at most 60 bytes, '"' and '\' escaped,
 * control bytes as '?'. */
static const char *quoted(const char *s, size_t n, char out[160]) {
  size_t k = 0;
  for (size_t i = 0; i < n && i < 60; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') out[k++] = '\\';
    out[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  if (n > 60) {
    memcpy(out + k, "...", 3);
    k += 3;
  }
  out[k] = '\0';
  return out;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_alnum(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(char c) {
  return c == ' ' || c == '\t';
}

/* A label value that is not empty: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?,
 * at most 63 bytes. Model names follow it too, so a model is always a valid
 * label value. */
static int valid_name(const char *s, size_t n) {
  if (n == 0 || n > 63 || !is_alnum(s[0]) || !is_alnum(s[n - 1])) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.') return 0;
  return 1;
}

/* A label key: [DNS-subdomain "/"] name (Kubernetes' qualified name). */
static int valid_label_key(const char *s) {
  const char *slash = strchr(s, '/');
  const char *name = slash ? slash + 1 : s;
  if (!valid_name(name, strlen(name))) return 0;
  if (slash == NULL) return 1;
  size_t plen = (size_t)(slash - s);
  if (plen == 0 || plen > 253) return 0;
  size_t label = 0;
  for (size_t i = 0; i < plen; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-') return 0;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || is_digit(c) || (c == '-' && label > 0)) {
      label++;
    } else {
      return 0;
    }
  }
  return label > 0 && s[plen - 1] != '-';
}

/* ---- the grammar ------------------------------------------------------------------ */

void gpu_format_milli(int64_t milli, char out[GPU_MILLI_STRLEN]) {
  uint64_t mag = milli < 0 ? (uint64_t)0 - (uint64_t)milli : (uint64_t)milli;
  int n = snprintf(out, GPU_MILLI_STRLEN, "%s%llu", milli < 0 ? "-" : "",
                   (unsigned long long)(mag / 1000));
  unsigned frac = (unsigned)(mag % 1000);
  if (frac) {
    char digits[5];
    snprintf(digits, sizeof(digits), ".%03u", frac);
    size_t d = strlen(digits);
    while (digits[d - 1] == '0') digits[--d] = '\0';
    snprintf(out + n, GPU_MILLI_STRLEN - (size_t)n, "%s", digits);
  }
}

void gpu_request_format(const gpu_request *r, char out[GPU_REQUEST_STRLEN]) {
  char cards[GPU_MILLI_STRLEN];
  if (r->shared)
    strcpy(cards, "-1");
  else
    gpu_format_milli(r->milli_cards, cards);
  /* vendor and model are bounded by the grammar, so the result fits. */
  int n;
  if (r->vendor[0] && r->model[0])
    n = snprintf(out, GPU_REQUEST_STRLEN, "%s(%s,%s)", cards, r->vendor, r->model);
  else if (r->vendor[0] || r->model[0])
    n = snprintf(out, GPU_REQUEST_STRLEN, "%s(%s)", cards, r->vendor[0] ? r->vendor : r->model);
  else
    n = snprintf(out, GPU_REQUEST_STRLEN, "%s", cards);
  (void)n;
}

/* Reasons a number of cards is refused, in the order they are checked. */
enum { CARDS_OK = 0, CARDS_NAN, CARDS_DECIMALS, CARDS_BIG, CARDS_NEGATIVE };

static int parse_cards(const char *p, size_t n, int64_t *milli, int *shared) {
  size_t i = 0;
  int neg = n > 0 && p[0] == '-';
  if (neg) i++;
  int64_t whole = 0;
  size_t digits = 0;
  int big = 0;
  for (; i < n && is_digit(p[i]); i++, digits++) {
    if (whole > GPU_MAX_CARDS)
      big = 1;
    else
      whole = whole * 10 + (p[i] - '0');
  }
  if (digits == 0) return CARDS_NAN;
  int64_t frac = 0;
  int fd = 0, too_fine = 0;
  if (i < n && p[i] == '.') {
    i++;
    size_t fdigits = 0;
    for (; i < n && is_digit(p[i]); i++, fdigits++) {
      if (fd < 3) {
        frac = frac * 10 + (p[i] - '0');
        fd++;
      } else if (p[i] != '0') {
        too_fine = 1;
      }
    }
    if (fdigits == 0) return CARDS_NAN;
  }
  if (i != n) return CARDS_NAN;
  if (too_fine) return CARDS_DECIMALS;
  for (; fd < 3; fd++) frac *= 10;
  if (big || whole > GPU_MAX_CARDS || (whole == GPU_MAX_CARDS && frac > 0)) return CARDS_BIG;
  int64_t m = whole * 1000 + frac;
  if (neg) {
    if (m != 1000) return CARDS_NEGATIVE;
    *shared = 1;
    *milli = 0;
    return CARDS_OK;
  }
  *milli = m;
  return CARDS_OK;
}

static void trim(const char **b, const char **e) {
  while (*b < *e && is_space(**b)) (*b)++;
  while (*e > *b && is_space((*e)[-1])) (*e)--;
}

static const char *vendor_of(const char *s, size_t n) {
  for (const char *const *v = vendors; *v; v++)
    if (strlen(*v) == n && strncasecmp(*v, s, n) == 0) return *v;
  return NULL;
}

int gpu_request_parse(const char *s, gpu_request *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (err && errlen) err[0] = '\0';
  char q[160], f[160];
  size_t slen = s ? strlen(s) : 0;
  quoted(s ? s : "", slen, q);
#define BAD(fmt, ...) (memset(out, 0, sizeof(*out)), cubit_errorf(err, errlen, CUBIT_EINVAL, "GPU request \"%s\": " fmt, q, __VA_ARGS__))
  const char *b = s ? s : "", *e = b + slen;
  trim(&b, &e);
  if (b == e) return BAD("%s", "empty");
  const char *lp = memchr(b, '(', (size_t)(e - b));
  const char *rp = memchr(b, ')', (size_t)(e - b));
  if (rp && (!lp || rp < lp)) return BAD("%s", "unbalanced brackets: ')' without '('");
  if (lp && !rp) return BAD("%s", "unbalanced brackets: '(' without ')'");
  if (lp && memchr(lp + 1, '(', (size_t)(e - lp - 1)))
    return BAD("%s", "unbalanced brackets: more than one '('");
  if (rp && memchr(rp + 1, ')', (size_t)(e - rp - 1)))
    return BAD("%s", "unbalanced brackets: more than one ')'");
  if (rp && rp + 1 != e) return BAD("%s", "unexpected text after ')'");
  const char *ne = lp ? lp : e;
  const char *nb = b;
  trim(&nb, &ne);
  if (nb == ne) return BAD("%s", "missing the number of cards before '('");
  switch (parse_cards(nb, (size_t)(ne - nb), &out->milli_cards, &out->shared)) {
    case CARDS_NAN:
      return BAD("%s", "not a number of cards (write cards like 1, 0.5, 2(A100) or -1)");
    case CARDS_DECIMALS:
      return BAD("%s", "more than 3 decimals (a request is exact to a thousandth of a card)");
    case CARDS_BIG:
      return BAD("more than %d cards", GPU_MAX_CARDS);
    case CARDS_NEGATIVE:
      return BAD("%s", "negative; only -1 is allowed (it shares the node's GPUs without requesting any)");
    default:
      break;
  }
  if (lp == NULL) return 0;
  const char *fb[3], *fe[3];
  size_t nf = 0;
  const char *p = lp + 1;
  for (;;) {
    const char *comma = memchr(p, ',', (size_t)(rp - p));
    const char *end = comma ? comma : rp;
    if (nf == 2) return BAD("%s", "more than two fields in brackets (write (model) or (vendor,model))");
    fb[nf] = p;
    fe[nf] = end;
    trim(&fb[nf], &fe[nf]);
    nf++;
    if (!comma) break;
    p = comma + 1;
  }
  const char *mb = fb[nf - 1], *me = fe[nf - 1];
  if (nf == 2) {
    if (fb[0] == fe[0]) return BAD("%s", "empty vendor in brackets");
    const char *v = vendor_of(fb[0], (size_t)(fe[0] - fb[0]));
    if (v == NULL)
      return BAD("unknown vendor \"%s\" (supported: nvidia)", quoted(fb[0], (size_t)(fe[0] - fb[0]), f));
    strcpy(out->vendor, v);
  } else {
    const char *v = vendor_of(mb, (size_t)(me - mb));
    if (v) {
      strcpy(out->vendor, v);
      mb = me;
    } else if (mb == me) {
      return BAD("%s", "empty model in brackets");
    }
  }
  if (nf == 2 && mb == me) return BAD("%s", "empty model in brackets");
  if (mb != me) {
    if (!valid_name(mb, (size_t)(me - mb)))
      return BAD("model \"%s\" is not a valid name (letters, digits, '-', '_' and '.', starting and ending "
                 "with a letter or digit, at most 63 characters)",
                 quoted(mb, (size_t)(me - mb), f));
    memcpy(out->model, mb, (size_t)(me - mb));
    out->model[me - mb] = '\0';
  }
  if (out->milli_cards == 0 && !out->shared) return BAD("%s", "0 cards cannot name a vendor or model");
#undef BAD
  return 0;
}

/* ---- the profile ------------------------------------------------------------------- */

const char *gpu_system_name(gpu_system s) {
  switch (s) {
    case GPU_SYSTEM_NVIDIA:
      return "nvidia";
    case GPU_SYSTEM_HAMI:
      return "hami";
    case GPU_SYSTEM_VOLCANO_VGPU:
      return "volcano-vgpu";
    case GPU_SYSTEM_VCUDA:
      return "vcuda";
  }
  return "?";
}

static const gpu_model *find_model(const gpu_profile *p, const char *name) {
  if (p == NULL || name == NULL) return NULL;
  for (size_t i = 0; i < p->nmodels; i++)
    if (strcasecmp(p->models[i].name, name) == 0) return &p->models[i];
  return NULL;
}

/* "A100, T4", or "none" — for messages. */
static const char *known_models(const gpu_profile *p, char *out, size_t n) {
  size_t k = 0;
  out[0] = '\0';
  for (size_t i = 0; p && i < p->nmodels && k + 1 < n; i++) {
    int w = snprintf(out + k, n - k, "%s%s", i ? ", " : "", p->models[i].name);
    if (w < 0) break;
    k += (size_t)w;
  }
  if (k >= n && n > 4) strcpy(out + n - 4, "...");
  if (out[0] == '\0') snprintf(out, n, "none");
  return out;
}

static int check_fields(const json_t *obj, const char *where, const char *const *allowed, char *err,
                        size_t errlen) {
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)obj, key, v) {
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, key) == 0;
    if (!ok) {
      char q[160];
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s%s%s: unknown field", where, where[0] ? "." : "",
                  quoted(key, strlen(key), q));
    }
  }
  return 0;
}

/* A card's memory: a quantity string or an integer of bytes, positive. */
static int parse_memory(const json_t *v, const char *model, int64_t *out, char *err, size_t errlen) {
  quantity q;
  char why[160];
  if (json_is_integer(v)) {
    q = quantity_from_int(json_integer_value(v), QUANTITY_BINARY_SI);
  } else if (json_is_string(v)) {
    int rc = quantity_parse_err(json_string_value(v), &q, why, sizeof(why));
    if (rc) return cubit_errorf(err, errlen, CUBIT_EINVAL, "models.%s.memory: \"%s\": %s", model, json_string_value(v), why);
  } else {
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "models.%s.memory: must be a quantity such as \"80Gi\"", model);
  }
  int64_t bytes;
  if (quantity_sign(&q) <= 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "models.%s.memory: must be positive", model);
  if (quantity_scaled_value_checked(&q, 0, &bytes) || bytes > ((int64_t)1 << 50))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "models.%s.memory: more than 1Pi", model);
  *out = bytes;
  return 0;
}

int gpu_profile_parse(const json_t *j, gpu_profile **out, char *err, size_t errlen) {
  static const char *const top_fields[] = {"system", "modelLabel", "defaultModel", "models", "hami", NULL};
  static const char *const model_fields[] = {"memory", "labelValue", NULL};
  static const char *const hami_fields[] = {"memoryMode", NULL};
  *out = NULL;
  if (err && errlen) err[0] = '\0';
  if (!json_is_object(j)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "GPU profile: must be a JSON object");
  int rc = check_fields(j, "", top_fields, err, errlen);
  if (rc) return rc;
  const json_t *models = json_object_get(j, "models");
  if (models && !json_is_object(models))
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "models: must be an object of model name to {memory, labelValue}");
  size_t n = json_object_size(models);
  if (n > MAX_MODELS) return cubit_errorf(err, errlen, CUBIT_EINVAL, "models: more than %d models", MAX_MODELS);
  gpu_profile *p = calloc(1, sizeof(*p) + n * sizeof(gpu_model));
  if (p == NULL) {
    cubit_errorf(err, errlen, CUBIT_EINVAL, "out of memory");
    return CUBIT_ENOMEM;
  }
  char q[160];

  const json_t *sys = json_object_get(j, "system");
  if (sys == NULL) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "system: required (one of nvidia, hami, volcano-vgpu, vcuda)");
    goto fail;
  }
  if (!json_is_string(sys)) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "system: must be a string (one of nvidia, hami, volcano-vgpu, vcuda)");
    goto fail;
  }
  const char *s = json_string_value(sys);
  gpu_system all[] = {GPU_SYSTEM_NVIDIA, GPU_SYSTEM_HAMI, GPU_SYSTEM_VOLCANO_VGPU, GPU_SYSTEM_VCUDA};
  size_t si;
  for (si = 0; si < 4 && strcmp(s, gpu_system_name(all[si])) != 0; si++) continue;
  if (si == 4) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "system: \"%s\" is not one of nvidia, hami, volcano-vgpu, vcuda",
              quoted(s, strlen(s), q));
    goto fail;
  }
  p->system = all[si];

  const json_t *label = json_object_get(j, "modelLabel");
  if (label && (!json_is_string(label) || !valid_label_key(json_string_value(label)))) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "modelLabel: must be a label key such as \"nvidia.com/gpu.product\"");
    goto fail;
  }
  snprintf(p->model_label, sizeof(p->model_label), "%s", label ? json_string_value(label) : DEFAULT_MODEL_LABEL);

  const char *name;
  const json_t *m;
  json_object_foreach((json_t *)models, name, m) {
    if (!valid_name(name, strlen(name))) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL,
                "models: \"%s\" is not a valid model name (letters, digits, '-', '_' and '.', starting and "
                "ending with a letter or digit, at most 63 characters)",
                quoted(name, strlen(name), q));
      goto fail;
    }
    if (find_model(p, name)) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "models: %s and %s differ only in case", find_model(p, name)->name, name);
      goto fail;
    }
    if (!json_is_object(m)) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "models.%s: must be an object with memory and labelValue", name);
      goto fail;
    }
    char where[96];
    snprintf(where, sizeof(where), "models.%s", name);
    if ((rc = check_fields(m, where, model_fields, err, errlen))) goto fail;
    gpu_model *gm = &p->models[p->nmodels];
    snprintf(gm->name, sizeof(gm->name), "%s", name);
    const json_t *mem = json_object_get(m, "memory");
    if (mem && (rc = parse_memory(mem, name, &gm->memory, err, errlen))) goto fail;
    const json_t *lv = json_object_get(m, "labelValue");
    if (lv && (!json_is_string(lv) || !valid_name(json_string_value(lv), strlen(json_string_value(lv))))) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL,
                "models.%s.labelValue: must be a label value (letters, digits, '-', '_' and '.', starting "
                "and ending with a letter or digit, at most 63 characters)",
                name);
      goto fail;
    }
    snprintf(gm->label_value, sizeof(gm->label_value), "%s", lv ? json_string_value(lv) : name);
    p->nmodels++;
  }

  const json_t *def = json_object_get(j, "defaultModel");
  if (def) {
    const gpu_model *dm = json_is_string(def) ? find_model(p, json_string_value(def)) : NULL;
    if (dm == NULL) {
      char known[256];
      if (json_is_string(def))
        rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "defaultModel: \"%s\" is not in models (known: %s)",
                  quoted(json_string_value(def), strlen(json_string_value(def)), q),
                  known_models(p, known, sizeof(known)));
      else
        rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "defaultModel: must be the name of one of the models");
      goto fail;
    }
    snprintf(p->default_model, sizeof(p->default_model), "%s", dm->name);
  }

  const json_t *hami = json_object_get(j, "hami");
  if (hami) {
    if (!json_is_object(hami)) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "hami: must be an object");
      goto fail;
    }
    if ((rc = check_fields(hami, "hami", hami_fields, err, errlen))) goto fail;
    const json_t *mode = json_object_get(hami, "memoryMode");
    if (mode) {
      const char *ms = json_string_value(mode);
      if (ms && strcmp(ms, "bytes") == 0)
        p->hami_mode = GPU_HAMI_MEMORY_BYTES;
      else if (ms && strcmp(ms, "percentage") == 0)
        p->hami_mode = GPU_HAMI_MEMORY_PERCENTAGE;
      else {
        rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "hami.memoryMode: must be \"bytes\" or \"percentage\"");
        goto fail;
      }
    }
  }
  *out = p;
  return 0;
fail:
  free(p);
  return rc;
}

void gpu_profile_free(gpu_profile *p) {
  free(p);
}

gpu_system gpu_profile_system(const gpu_profile *p) {
  return p ? p->system : GPU_SYSTEM_NVIDIA;
}

const char *gpu_profile_model_label(const gpu_profile *p) {
  return p ? p->model_label : DEFAULT_MODEL_LABEL;
}

const char *gpu_profile_default_model(const gpu_profile *p) {
  return p && p->default_model[0] ? p->default_model : NULL;
}

gpu_hami_memory_mode gpu_profile_hami_memory_mode(const gpu_profile *p) {
  return p ? p->hami_mode : GPU_HAMI_MEMORY_AUTO;
}

size_t gpu_profile_model_count(const gpu_profile *p) {
  return p ? p->nmodels : 0;
}

const char *gpu_profile_model_name(const gpu_profile *p, size_t i) {
  return p && i < p->nmodels ? p->models[i].name : NULL;
}

const char *gpu_profile_find_model(const gpu_profile *p, const char *model) {
  const gpu_model *m = find_model(p, model);
  return m ? m->name : NULL;
}

int64_t gpu_profile_model_memory(const gpu_profile *p, const char *model) {
  const gpu_model *m = find_model(p, model ? model : gpu_profile_default_model(p));
  return m ? m->memory : 0;
}

const char *gpu_profile_model_label_value(const gpu_profile *p, const char *model) {
  const gpu_model *m = find_model(p, model);
  return m ? m->label_value : NULL;
}

const char *gpu_profile_model_for_label_value(const gpu_profile *p, const char *value) {
  for (size_t i = 0; p && value && i < p->nmodels; i++)
    if (strcmp(p->models[i].label_value, value) == 0) return p->models[i].name;
  return NULL;
}

/* ---- translation --------------------------------------------------------------------- */

static void add_limit(gpu_translation *t, const char *name, int64_t v) {
  gpu_limit *l = &t->limits[t->nlimits++];
  snprintf(l->name, sizeof(l->name), "%s", name);
  snprintf(l->value, sizeof(l->value), "%lld", (long long)v);
}

/* floor(milli/1000 * bytes / unit), at least 1. */
static int64_t share_of(int64_t milli, int64_t bytes, int64_t unit) {
  i128 v = (i128)milli * bytes / ((i128)1000 * unit);
  return v < 1 ? 1 : (int64_t)v;
}

/* A fraction of a card as a whole percent, rounded down, at least 1. */
static int64_t percent_of(int64_t milli) {
  return milli / 10 < 1 ? 1 : milli / 10;
}

int gpu_translate(const gpu_profile *p, const gpu_request *r, gpu_translation *out, char *err,
                  size_t errlen) {
  memset(out, 0, sizeof(*out));
  if (err && errlen) err[0] = '\0';
  char rs[GPU_REQUEST_STRLEN], known[256];
  gpu_request_format(r, rs);
  const gpu_model *m = NULL;
  if (r->model[0]) {
    m = find_model(p, r->model);
    if (m == NULL)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "GPU request \"%s\": model %s is not in the cluster's GPU profile (known: %s)", rs,
                  r->model, known_models(p, known, sizeof(known)));
    snprintf(out->node_selector_key, sizeof(out->node_selector_key), "%s", p->model_label);
    snprintf(out->node_selector_value, sizeof(out->node_selector_value), "%s", m->label_value);
  }
  if (r->shared) {
    strcpy(out->visible_devices, "all");
    return 0;
  }
  if (r->milli_cards <= 0) {
    strcpy(out->visible_devices, "none");
    return 0;
  }
  const gpu_model *mm = m ? m : find_model(p, gpu_profile_default_model(p));
  int64_t memory = mm ? mm->memory : 0;
  int64_t milli = r->milli_cards, cards = milli / 1000;
  int whole = milli % 1000 == 0;
  gpu_system sys = gpu_profile_system(p);
  if (!whole && sys == GPU_SYSTEM_NVIDIA)
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                "GPU request \"%s\": the cluster's GPU profile (system nvidia) allocates whole cards; request a "
                "whole number of cards, or ask the administrator for a GPU-sharing system (hami, volcano-vgpu or "
                "vcuda)",
                rs);
  if (!whole && milli > 1000)
    return cubit_errorf(err, errlen, CUBIT_EINVAL,
                "GPU request \"%s\": %s shares one card between pods; above one card, request a whole number of "
                "cards",
                rs, gpu_system_name(sys));
  char memory_hint[160];
  if (mm)
    snprintf(memory_hint, sizeof(memory_hint), "set models.%s.memory in the cluster's GPU profile", mm->name);
  else
    snprintf(memory_hint, sizeof(memory_hint),
             "name a model in brackets, or set defaultModel and its memory in the cluster's GPU profile");
  switch (sys) {
    case GPU_SYSTEM_NVIDIA:
      add_limit(out, GPU_RES_NVIDIA, cards);
      break;
    case GPU_SYSTEM_HAMI:
      if (whole) {
        add_limit(out, GPU_RES_NVIDIA, cards);
        break;
      }
      if (p->hami_mode == GPU_HAMI_MEMORY_BYTES && memory == 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL,
                    "GPU request \"%s\": hami.memoryMode is bytes but the card's memory is unknown: %s", rs,
                    memory_hint);
      add_limit(out, GPU_RES_NVIDIA, 1);
      add_limit(out, GPU_RES_HAMI_CORES, percent_of(milli));
      if (memory && p->hami_mode != GPU_HAMI_MEMORY_PERCENTAGE)
        add_limit(out, GPU_RES_HAMI_MEM, share_of(milli, memory, MIB));
      else
        add_limit(out, GPU_RES_HAMI_MEM_PCT, percent_of(milli));
      break;
    case GPU_SYSTEM_VOLCANO_VGPU:
      if (whole) {
        add_limit(out, GPU_RES_VGPU_NUMBER, cards);
        add_limit(out, GPU_RES_VGPU_CORES, 100);
        break;
      }
      add_limit(out, GPU_RES_VGPU_NUMBER, 1);
      add_limit(out, GPU_RES_VGPU_CORES, percent_of(milli));
      if (memory)
        add_limit(out, GPU_RES_VGPU_MEM, share_of(milli, memory, MIB));
      else
        add_limit(out, GPU_RES_VGPU_MEM_PCT, percent_of(milli));
      break;
    case GPU_SYSTEM_VCUDA:
      if (memory == 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "GPU request \"%s\": system vcuda needs the card's memory: %s", rs, memory_hint);
      add_limit(out, GPU_RES_VCUDA_CORE, whole ? cards * 100 : percent_of(milli));
      add_limit(out, GPU_RES_VCUDA_MEM, share_of(milli, memory, VCUDA_UNIT));
      break;
  }
  return 0;
}

/* ---- counting what a container holds ------------------------------------------------ */

/* The integer value (rounded up) of resources[name], capped at RES_CAP so
 * that products stay within 128 bits (a request that large is far beyond
 * any quota anyway); 1 when present, parsable and not negative. */
static int res_value(const json_t *res, const char *name, int64_t *out) {
  const json_t *v = json_object_get(res, name);
  quantity q;
  if (json_is_string(v)) {
    if (quantity_parse(json_string_value(v), &q)) return 0;
  } else if (json_is_integer(v)) {
    q = quantity_from_int(json_integer_value(v), QUANTITY_DECIMAL_SI);
  } else if (json_is_real(v)) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
    if (quantity_parse(buf, &q)) return 0;
  } else {
    return 0;
  }
  if (quantity_sign(&q) < 0) return 0;
  int64_t value = quantity_value(&q);
  *out = value > RES_CAP ? RES_CAP : value;
  return 1;
}

static int64_t clamp(i128 v) {
  return v > INT64_MAX ? INT64_MAX : v < 0 ? 0 : (int64_t)v;
}

/* Thousandths of a card one vGPU holds: its cores percentage (1 to 100) of
 * the card. No cores, or 0 — which HAMi and Volcano read as "no compute
 * limit", the whole card's compute time-shared — is a whole card; above
 * 100 is one card too (no vGPU spans two cards). */
static int64_t share_milli(int has_cores, int64_t cores) {
  if (!has_cores || cores <= 0 || cores >= 100) return 1000;
  return cores * 10;
}

int64_t gpu_cards_milli(const json_t *res) {
  if (!json_is_object(res)) return 0;
  i128 total = 0;
  int64_t n, cores, x;
  /* nvidia.com/gpu, HAMi's when gpucores, gpumem or -percentage is set */
  int has = res_value(res, GPU_RES_NVIDIA, &n);
  int has_cores = res_value(res, GPU_RES_HAMI_CORES, &cores);
  if (!has && (has_cores || res_value(res, GPU_RES_HAMI_MEM, &x) || res_value(res, GPU_RES_HAMI_MEM_PCT, &x))) {
    n = 1;
    has = 1;
  }
  if (has) total += (i128)n * share_milli(has_cores, cores);
  /* Volcano vGPU */
  has = res_value(res, GPU_RES_VGPU_NUMBER, &n);
  if (!has && res_value(res, GPU_RES_VGPU_MEM, &x)) {
    n = 1;
    has = 1;
  }
  if (has) {
    has_cores = res_value(res, GPU_RES_VGPU_CORES, &cores);
    total += (i128)n * share_milli(has_cores, cores);
  }
  /* TKE vcuda */
  if (res_value(res, GPU_RES_VCUDA_CORE, &x)) total += (i128)x * 10;
  return clamp(total);
}

int64_t gpu_memory_bytes(const json_t *res, const gpu_profile *p, const char *model) {
  if (!json_is_object(res)) return 0;
  int64_t card = gpu_profile_model_memory(p, model);
  i128 total = 0;
  int64_t n, x;
  int has = res_value(res, GPU_RES_NVIDIA, &n);
  int has_mem = res_value(res, GPU_RES_HAMI_MEM, &x);
  int64_t pct;
  int has_pct = res_value(res, GPU_RES_HAMI_MEM_PCT, &pct);
  if (!has && (has_mem || has_pct || res_value(res, GPU_RES_HAMI_CORES, &n))) {
    n = 1;
    has = 1;
  }
  if (has) {
    if (has_mem)
      total += (i128)n * x * MIB;
    else if (has_pct)
      total += (i128)n * pct * card / 100;
    else
      total += (i128)n * card;
  }
  has = res_value(res, GPU_RES_VGPU_NUMBER, &n);
  has_mem = res_value(res, GPU_RES_VGPU_MEM, &x);
  has_pct = res_value(res, GPU_RES_VGPU_MEM_PCT, &pct);
  if (!has && has_mem) {
    n = 1;
    has = 1;
  }
  if (has) {
    if (has_mem)
      total += (i128)n * x * MIB;
    else if (has_pct)
      total += (i128)n * pct * card / 100;
    else
      total += (i128)n * card;
  }
  if (res_value(res, GPU_RES_VCUDA_MEM, &x))
    total += (i128)x * VCUDA_UNIT;
  else if (res_value(res, GPU_RES_VCUDA_CORE, &x))
    total += (i128)x * card / 100;
  return clamp(total);
}
