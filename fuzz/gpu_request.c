/* api/gpu: the GPU request grammar ("0.25(nvidia,T4)") and its translation.
 * Input: the request string.
 *
 * Properties:
 *   - an invalid request is CUBIT_EINVAL with a message and a zeroed result;
 *   - format(parse(s)) parses to the same request and formats to the same
 *     string;
 *   - through each system's profile, a translation either fails with a
 *     message or gives at most GPU_MAX_LIMITS integer quantities, and the
 *     cards counted from them (the quota's view, gpu_cards_milli) are more
 *     than zero whenever the request asks for a GPU: a request is never
 *     charged as free. */
#include <jansson.h>

#include "api/gpu/gpu.h"
#include "fuzz.h"
#include "util/quantity.h"

static const char *const profile_texts[] = {
    "{\"system\": \"nvidia\", \"models\": {\"A100\": {\"memory\": \"80Gi\"}, \"T4\": {}}}",
    "{\"system\": \"hami\", \"defaultModel\": \"T4\", \"models\": {\"A100\": {\"memory\": \"80Gi\", "
    "\"labelValue\": \"NVIDIA-A100-SXM4-80GB\"}, \"T4\": {\"memory\": \"15360Mi\"}}}",
    "{\"system\": \"hami\", \"models\": {\"A100\": {}}, \"hami\": {\"memoryMode\": \"percentage\"}}",
    "{\"system\": \"volcano-vgpu\", \"models\": {\"A100\": {\"memory\": \"80Gi\"}, \"T4\": {}}}",
    "{\"system\": \"vcuda\", \"defaultModel\": \"T4\", \"models\": {\"A100\": {\"memory\": \"80Gi\"}, "
    "\"T4\": {\"memory\": \"16Gi\"}}}",
};
#define NPROFILES (sizeof(profile_texts) / sizeof(profile_texts[0]))
static gpu_profile *profiles[NPROFILES]; /* parsed once; immutable */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  for (size_t i = 0; i < NPROFILES; i++) {
    json_t *j = json_loads(profile_texts[i], 0, NULL);
    char err[256];
    if (j == NULL || gpu_profile_parse(j, &profiles[i], err, sizeof(err)) != 0) {
      fprintf(stderr, "fuzz gpu_request: profile %zu: %s\n", i, err);
      abort();
    }
    json_decref(j);
  }
  return 0;
}

static int request_eq(const gpu_request *a, const gpu_request *b) {
  return a->milli_cards == b->milli_cards && a->shared == b->shared && strcmp(a->vendor, b->vendor) == 0 &&
         strcmp(a->model, b->model) == 0;
}

static void check_translation(const gpu_profile *p, const gpu_request *r, const char *in) {
  gpu_translation t;
  char err[512] = "";
  if (gpu_translate(p, r, &t, err, sizeof(err)) != 0) {
    FUZZ_ASSERT(err[0] != '\0', "\"%s\" (%s): a refusal without a message", in, gpu_system_name(gpu_profile_system(p)));
    return;
  }
  FUZZ_ASSERT(t.nlimits <= GPU_MAX_LIMITS, "%zu limits", t.nlimits);
  json_t *limits = json_object();
  for (size_t i = 0; i < t.nlimits; i++) {
    quantity q;
    FUZZ_ASSERT(quantity_parse(t.limits[i].value, &q) == 0 && quantity_sign(&q) >= 0,
                "\"%s\": limit %s = \"%s\" is no quantity", in, t.limits[i].name, t.limits[i].value);
    json_object_set_new(limits, t.limits[i].name, json_string(t.limits[i].value));
  }
  int64_t counted = gpu_cards_milli(limits);
  if (!r->shared && r->milli_cards > 0)
    FUZZ_ASSERT(counted > 0, "\"%s\" through %s is counted as %lld thousandths of a card", in,
                gpu_system_name(gpu_profile_system(p)), (long long)counted);
  json_decref(limits);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *in = fuzz_cstr(data, size);
  gpu_request r;
  char err[512] = "x";
  int rc = gpu_request_parse(in, &r, err, sizeof(err));
  if (rc) {
    gpu_request zero;
    memset(&zero, 0, sizeof(zero));
    FUZZ_ASSERT(rc == CUBIT_EINVAL && err[0] && memcmp(&r, &zero, sizeof(r)) == 0, "\"%s\": %d %s", in, rc, err);
    free(in);
    return 0;
  }
  FUZZ_ASSERT(err[0] == '\0', "success leaves a message: %s", err);
  FUZZ_ASSERT(r.milli_cards >= 0 && r.milli_cards <= (int64_t)GPU_MAX_CARDS * 1000, "\"%s\": %lld", in,
              (long long)r.milli_cards);

  char s[GPU_REQUEST_STRLEN], s2[GPU_REQUEST_STRLEN];
  gpu_request_format(&r, s);
  gpu_request back;
  rc = gpu_request_parse(s, &back, err, sizeof(err));
  FUZZ_ASSERT(rc == 0, "\"%s\" formats as \"%s\", which does not parse: %s", in, s, err);
  FUZZ_ASSERT(request_eq(&r, &back), "\"%s\" formats as \"%s\", which parses differently", in, s);
  gpu_request_format(&back, s2);
  FUZZ_ASSERT(strcmp(s, s2) == 0, "\"%s\" formats as \"%s\", then as \"%s\"", in, s, s2);

  check_translation(NULL, &r, in);
  for (size_t i = 0; i < NPROFILES; i++) check_translation(profiles[i], &r, in);
  free(in);
  return 0;
}
