/* api/gpu: the cluster's GPU profile and the counting of GPU resources.
 * Input: a JSON document, read both as a profile and as a container's
 * resource map.
 *
 * Properties:
 *   - an invalid profile is CUBIT_EINVAL with a message naming the field
 *     and no result;
 *   - for a valid one, every model is found again by its name in any case,
 *     its label value leads back to a model, and requests for each model
 *     translate or fail with a message;
 *   - the cards and the GPU memory counted from any resource map are never
 *     negative (a negative count would lower a project's usage). */
#include <jansson.h>
#include <strings.h>

#include "api/gpu/gpu.h"
#include "fuzz.h"

static void check_profile(const gpu_profile *p) {
  FUZZ_ASSERT(gpu_system_name(gpu_profile_system(p)) != NULL, "no system name");
  FUZZ_ASSERT(gpu_profile_model_label(p) != NULL, "no model label");
  const char *def = gpu_profile_default_model(p);
  if (def) FUZZ_ASSERT(gpu_profile_find_model(p, def) != NULL, "the default model %s is not a model", def);
  size_t n = gpu_profile_model_count(p);
  for (size_t i = 0; i < n; i++) {
    const char *name = gpu_profile_model_name(p, i);
    FUZZ_ASSERT(name != NULL, "model %zu has no name", i);
    const char *found = gpu_profile_find_model(p, name);
    FUZZ_ASSERT(found && strcasecmp(found, name) == 0, "model %s is not found by its name", name);
    FUZZ_ASSERT(gpu_profile_model_memory(p, name) >= 0, "model %s has negative memory", name);
    const char *label = gpu_profile_model_label_value(p, name);
    FUZZ_ASSERT(label != NULL, "model %s has no label value", name);
    FUZZ_ASSERT(gpu_profile_model_for_label_value(p, label) != NULL, "label value %s leads to no model", label);

    static const char *const forms[] = {"1(%s)", "0.5(%s)", "0.001(nvidia,%s)", "-1(%s)", "3.25(%s)"};
    for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
      char text[GPU_MODEL_LEN + 32];
      snprintf(text, sizeof(text), forms[k], name);
      gpu_request r;
      if (gpu_request_parse(text, &r, NULL, 0) != 0) continue; /* a model name the grammar cannot write */
      gpu_translation t;
      char err[512] = "";
      if (gpu_translate(p, &r, &t, err, sizeof(err)) != 0)
        FUZZ_ASSERT(err[0] != '\0', "\"%s\": a refusal without a message", text);
      else
        FUZZ_ASSERT(t.nlimits <= GPU_MAX_LIMITS, "\"%s\": %zu limits", text, t.nlimits);
    }
  }
  FUZZ_ASSERT(gpu_profile_model_name(p, n) == NULL, "a model past the count");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
  if (j == NULL) return 0;
  gpu_profile *p = NULL;
  char err[512] = "";
  int rc = gpu_profile_parse(j, &p, err, sizeof(err));
  if (rc) {
    FUZZ_ASSERT((rc == CUBIT_EINVAL || rc == CUBIT_ENOMEM) && p == NULL && err[0], "gpu_profile_parse: %d %s", rc,
                err);
  } else {
    check_profile(p);
  }
  int64_t cards = gpu_cards_milli(j);
  FUZZ_ASSERT(cards >= 0, "%lld thousandths of a card counted", (long long)cards);
  int64_t mem = gpu_memory_bytes(j, p, NULL);
  FUZZ_ASSERT(mem >= 0, "%lld bytes of GPU memory counted", (long long)mem);
  gpu_profile_free(p);
  json_decref(j);
  return 0;
}
