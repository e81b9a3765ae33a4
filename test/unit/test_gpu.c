/* Tests of webhooks/gpu: the grammar, the profile, the translation into
 * each GPU-sharing system, and counting cards and memory back from
 * resources. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/alloc.h"
#include "api/gpu/gpu.h"

#define GI ((int64_t)1 << 30)
#define MI ((int64_t)1 << 20)

/* ---- the grammar: valid strings ---------------------------------------------------- */

typedef struct {
  const char *in;
  int64_t milli;
  int shared;
  const char *vendor, *model;
  const char *canonical;
} grammar_ok;

static const grammar_ok grammar_ok_cases[] = {
    {"0", 0, 0, "", "", "0"},
    {"1", 1000, 0, "", "", "1"},
    {"2", 2000, 0, "", "", "2"},
    {"0.5", 500, 0, "", "", "0.5"},
    {"0.25", 250, 0, "", "", "0.25"},
    {"0.125", 125, 0, "", "", "0.125"},
    {"0.001", 1, 0, "", "", "0.001"},
    {"1.5", 1500, 0, "", "", "1.5"},
    {"0.50", 500, 0, "", "", "0.5"},
    {"2.0000", 2000, 0, "", "", "2"},
    {"007", 7000, 0, "", "", "7"},
    {"1000000", 1000000000, 0, "", "", "1000000"},
    {"-1", 0, 1, "", "", "-1"},
    {"-1.000", 0, 1, "", "", "-1"},
    {"1(A100)", 1000, 0, "", "A100", "1(A100)"},
    {"0.25(nvidia,T4)", 250, 0, "nvidia", "T4", "0.25(nvidia,T4)"},
    {"0.25(NVIDIA,T4)", 250, 0, "nvidia", "T4", "0.25(nvidia,T4)"},
    {"2(nvidia)", 2000, 0, "nvidia", "", "2(nvidia)"},
    {"-1(A100)", 0, 1, "", "A100", "-1(A100)"},
    {"  0.5  ", 500, 0, "", "", "0.5"},
    {"\t1 (A100)\t", 1000, 0, "", "A100", "1(A100)"},
    {"0.5( nvidia , T4 )", 500, 0, "nvidia", "T4", "0.5(nvidia,T4)"},
    {"1(a100-80gb)", 1000, 0, "", "a100-80gb", "1(a100-80gb)"},
    {"1(RTX_4090.v2)", 1000, 0, "", "RTX_4090.v2", "1(RTX_4090.v2)"},
    {"8(3090)", 8000, 0, "", "3090", "8(3090)"},
};

START_TEST(grammar_valid) {
  const grammar_ok *c = &grammar_ok_cases[_i];
  gpu_request r;
  char err[256] = "x";
  ck_assert_msg(gpu_request_parse(c->in, &r, err, sizeof(err)) == 0, "\"%s\": %s", c->in, err);
  ck_assert_str_eq(err, "");
  ck_assert_msg(r.milli_cards == c->milli, "\"%s\": milli %lld", c->in, (long long)r.milli_cards);
  ck_assert_int_eq(r.shared, c->shared);
  ck_assert_str_eq(r.vendor, c->vendor);
  ck_assert_str_eq(r.model, c->model);
  char buf[GPU_REQUEST_STRLEN];
  gpu_request_format(&r, buf);
  ck_assert_str_eq(buf, c->canonical);
  /* the canonical form reads back to the same request */
  gpu_request again;
  ck_assert_int_eq(gpu_request_parse(buf, &again, NULL, 0), 0);
  ck_assert_mem_eq(&again, &r, sizeof(r));
}
END_TEST

/* ---- the grammar: invalid strings, each with its message ----------------------------- */

typedef struct {
  const char *in;
  const char *msg;
} grammar_bad;

#define NAN_MSG "not a number of cards (write cards like 1, 0.5, 2(A100) or -1)"
#define NAME_RULE \
  "is not a valid name (letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters)"

static const grammar_bad grammar_bad_cases[] = {
    {"", "GPU request \"\": empty"},
    {"   ", "GPU request \"   \": empty"},
    {"abc", "GPU request \"abc\": " NAN_MSG},
    {"one", "GPU request \"one\": " NAN_MSG},
    {"1.", "GPU request \"1.\": " NAN_MSG},
    {".5", "GPU request \".5\": " NAN_MSG},
    {"+1", "GPU request \"+1\": " NAN_MSG},
    {"1e3", "GPU request \"1e3\": " NAN_MSG},
    {"0x1", "GPU request \"0x1\": " NAN_MSG},
    {"1,5", "GPU request \"1,5\": " NAN_MSG},
    {"1 5", "GPU request \"1 5\": " NAN_MSG},
    {"--1", "GPU request \"--1\": " NAN_MSG},
    {"500m", "GPU request \"500m\": " NAN_MSG},
    {"1x(A100)", "GPU request \"1x(A100)\": " NAN_MSG},
    {"0.1234", "GPU request \"0.1234\": more than 3 decimals (a request is exact to a thousandth of a card)"},
    {"1.0001", "GPU request \"1.0001\": more than 3 decimals (a request is exact to a thousandth of a card)"},
    {"1000001", "GPU request \"1000001\": more than 1000000 cards"},
    {"1000000.5", "GPU request \"1000000.5\": more than 1000000 cards"},
    {"99999999999999999999999", "GPU request \"99999999999999999999999\": more than 1000000 cards"},
    {"-2", "GPU request \"-2\": negative; only -1 is allowed (it shares the node's GPUs without requesting any)"},
    {"-0.5", "GPU request \"-0.5\": negative; only -1 is allowed (it shares the node's GPUs without requesting any)"},
    {"-0", "GPU request \"-0\": negative; only -1 is allowed (it shares the node's GPUs without requesting any)"},
    {"1(A100", "GPU request \"1(A100\": unbalanced brackets: '(' without ')'"},
    {"1A100)", "GPU request \"1A100)\": unbalanced brackets: ')' without '('"},
    {"1)A100(", "GPU request \"1)A100(\": unbalanced brackets: ')' without '('"},
    {"1((A100))", "GPU request \"1((A100))\": unbalanced brackets: more than one '('"},
    {"1(A100))", "GPU request \"1(A100))\": unbalanced brackets: more than one ')'"},
    {"1(A100)x", "GPU request \"1(A100)x\": unexpected text after ')'"},
    {"1(A100) (T4)", "GPU request \"1(A100) (T4)\": unbalanced brackets: more than one '('"},
    {"(A100)", "GPU request \"(A100)\": missing the number of cards before '('"},
    {"1()", "GPU request \"1()\": empty model in brackets"},
    {"1( )", "GPU request \"1( )\": empty model in brackets"},
    {"1(nvidia,)", "GPU request \"1(nvidia,)\": empty model in brackets"},
    {"1(,T4)", "GPU request \"1(,T4)\": empty vendor in brackets"},
    {"1(amd,MI100)", "GPU request \"1(amd,MI100)\": unknown vendor \"amd\" (supported: nvidia)"},
    {"1(nvidia,T4,x)", "GPU request \"1(nvidia,T4,x)\": more than two fields in brackets (write (model) or (vendor,model))"},
    {"1(a,b,c,d)", "GPU request \"1(a,b,c,d)\": more than two fields in brackets (write (model) or (vendor,model))"},
    {"1(RTX 4090)", "GPU request \"1(RTX 4090)\": model \"RTX 4090\" " NAME_RULE},
    {"1(-T4)", "GPU request \"1(-T4)\": model \"-T4\" " NAME_RULE},
    {"1(T4\")", "GPU request \"1(T4\\\")\": model \"T4\\\"\" " NAME_RULE},
    {"1(0123456789012345678901234567890123456789012345678901234567890123)",
     "GPU request \"1(0123456789012345678901234567890123456789012345678901234567...\": model "
     "\"012345678901234567890123456789012345678901234567890123456789...\" " NAME_RULE},
    {"0(A100)", "GPU request \"0(A100)\": 0 cards cannot name a vendor or model"},
    {"0.000(nvidia)", "GPU request \"0.000(nvidia)\": 0 cards cannot name a vendor or model"},
    {"1\n", "GPU request \"1?\": " NAN_MSG},
};

START_TEST(grammar_invalid) {
  const grammar_bad *c = &grammar_bad_cases[_i];
  gpu_request r;
  memset(&r, 0x5a, sizeof(r));
  char err[512];
  ck_assert_int_eq(gpu_request_parse(c->in, &r, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  gpu_request zero;
  memset(&zero, 0, sizeof(zero));
  ck_assert_mem_eq(&r, &zero, sizeof(r));
}
END_TEST

START_TEST(grammar_null_and_formatting) {
  gpu_request r;
  char err[128];
  ck_assert_int_eq(gpu_request_parse(NULL, &r, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, "GPU request \"\": empty");
  ck_assert_int_eq(gpu_request_parse("x", &r, NULL, 0), CUBIT_EINVAL);
  static const struct {
    int64_t milli;
    const char *s;
  } cases[] = {{0, "0"},        {1, "0.001"},       {10, "0.01"},          {100, "0.1"},
               {1000, "1"},     {1010, "1.01"},     {1234, "1.234"},       {-250, "-0.25"},
               {-2000, "-2"},   {INT64_MAX, "9223372036854775.807"}, {INT64_MIN, "-9223372036854775.808"}};
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char buf[GPU_MILLI_STRLEN];
    gpu_format_milli(cases[i].milli, buf);
    ck_assert_str_eq(buf, cases[i].s);
  }
}
END_TEST

/* ---- profiles ------------------------------------------------------------------------ */

static gpu_profile *profile(const char *json) {
  json_error_t jerr;
  json_t *j = json_loads(json, 0, &jerr);
  ck_assert_msg(j != NULL, "bad JSON %s: %s", json, jerr.text);
  gpu_profile *p = NULL;
  char err[256];
  int rc = gpu_profile_parse(j, &p, err, sizeof(err));
  ck_assert_msg(rc == 0, "profile %s: %s", json, err);
  json_decref(j);
  return p;
}

#define MODELS \
  "\"models\": {\"A100\": {\"memory\": \"80Gi\", \"labelValue\": \"NVIDIA-A100-SXM4-80GB\"}, \"T4\": {\"memory\": \"16Gi\"}}"

START_TEST(profile_fields) {
  gpu_profile *p = profile("{\"system\": \"hami\", \"defaultModel\": \"t4\", " MODELS
                           ", \"hami\": {\"memoryMode\": \"percentage\"}}");
  ck_assert_int_eq(gpu_profile_system(p), GPU_SYSTEM_HAMI);
  ck_assert_str_eq(gpu_system_name(gpu_profile_system(p)), "hami");
  ck_assert_str_eq(gpu_profile_model_label(p), "nvidia.com/gpu.product");
  ck_assert_str_eq(gpu_profile_default_model(p), "T4");
  ck_assert_int_eq(gpu_profile_hami_memory_mode(p), GPU_HAMI_MEMORY_PERCENTAGE);
  ck_assert_uint_eq(gpu_profile_model_count(p), 2);
  ck_assert_str_eq(gpu_profile_model_name(p, 0), "A100");
  ck_assert_str_eq(gpu_profile_model_name(p, 1), "T4");
  ck_assert_ptr_null(gpu_profile_model_name(p, 2));
  ck_assert_str_eq(gpu_profile_find_model(p, "a100"), "A100");
  ck_assert_ptr_null(gpu_profile_find_model(p, "V100"));
  ck_assert_int_eq(gpu_profile_model_memory(p, "A100"), 80 * GI);
  ck_assert_int_eq(gpu_profile_model_memory(p, NULL), 16 * GI);
  ck_assert_int_eq(gpu_profile_model_memory(p, "V100"), 0);
  ck_assert_str_eq(gpu_profile_model_label_value(p, "A100"), "NVIDIA-A100-SXM4-80GB");
  ck_assert_str_eq(gpu_profile_model_label_value(p, "T4"), "T4");
  ck_assert_str_eq(gpu_profile_model_for_label_value(p, "NVIDIA-A100-SXM4-80GB"), "A100");
  ck_assert_ptr_null(gpu_profile_model_for_label_value(p, "A100"));
  gpu_profile_free(p);

  p = profile("{\"system\": \"volcano-vgpu\", \"modelLabel\": \"example.com/gpu-model\", "
              "\"models\": {\"H100\": {\"memory\": 85899345920}, \"L4\": {}}}");
  ck_assert_int_eq(gpu_profile_system(p), GPU_SYSTEM_VOLCANO_VGPU);
  ck_assert_str_eq(gpu_profile_model_label(p), "example.com/gpu-model");
  ck_assert_ptr_null(gpu_profile_default_model(p));
  ck_assert_int_eq(gpu_profile_model_memory(p, NULL), 0);
  ck_assert_int_eq(gpu_profile_model_memory(p, "H100"), 80 * GI);
  ck_assert_int_eq(gpu_profile_model_memory(p, "L4"), 0);
  ck_assert_int_eq(gpu_profile_hami_memory_mode(p), GPU_HAMI_MEMORY_AUTO);
  gpu_profile_free(p);

  p = profile("{\"system\": \"vcuda\", \"hami\": {}}");
  ck_assert_int_eq(gpu_profile_system(p), GPU_SYSTEM_VCUDA);
  ck_assert_uint_eq(gpu_profile_model_count(p), 0);
  gpu_profile_free(p);

  /* A NULL profile is whole cards without models. */
  ck_assert_int_eq(gpu_profile_system(NULL), GPU_SYSTEM_NVIDIA);
  ck_assert_str_eq(gpu_profile_model_label(NULL), "nvidia.com/gpu.product");
  ck_assert_uint_eq(gpu_profile_model_count(NULL), 0);
  ck_assert_int_eq(gpu_profile_model_memory(NULL, "A100"), 0);
  gpu_profile_free(NULL);
}
END_TEST

typedef struct {
  const char *json;
  const char *msg;
} profile_bad;

static const profile_bad profile_bad_cases[] = {
    {"[]", "GPU profile: must be a JSON object"},
    {"{}", "system: required (one of nvidia, hami, volcano-vgpu, vcuda)"},
    {"{\"system\": 1}", "system: must be a string (one of nvidia, hami, volcano-vgpu, vcuda)"},
    {"{\"system\": \"mig\"}", "system: \"mig\" is not one of nvidia, hami, volcano-vgpu, vcuda"},
    {"{\"system\": \"nvidia\", \"sytem\": \"x\"}", "sytem: unknown field"},
    {"{\"system\": \"nvidia\", \"modelLabel\": \"not a label\"}",
     "modelLabel: must be a label key such as \"nvidia.com/gpu.product\""},
    {"{\"system\": \"nvidia\", \"modelLabel\": \"Example.com/x\"}",
     "modelLabel: must be a label key such as \"nvidia.com/gpu.product\""},
    {"{\"system\": \"nvidia\", \"modelLabel\": 3}", "modelLabel: must be a label key such as \"nvidia.com/gpu.product\""},
    {"{\"system\": \"nvidia\", \"models\": []}", "models: must be an object of model name to {memory, labelValue}"},
    {"{\"system\": \"nvidia\", \"models\": {\"A 100\": {}}}",
     "models: \"A 100\" is not a valid model name (letters, digits, '-', '_' and '.', starting and ending with a "
     "letter or digit, at most 63 characters)"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {}, \"t4\": {}}}", "models: T4 and t4 differ only in case"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": 16}}", "models.T4: must be an object with memory and labelValue"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memroy\": \"16Gi\"}}}", "models.T4.memroy: unknown field"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memory\": \"16Mm\"}}}",
     "models.T4.memory: \"16Mm\": unable to parse quantity's suffix"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memory\": \"lots\"}}}",
     "models.T4.memory: \"lots\": quantities must match the regular expression "
     "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memory\": 1.5}}}",
     "models.T4.memory: must be a quantity such as \"80Gi\""},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memory\": \"0\"}}}", "models.T4.memory: must be positive"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memory\": \"-16Gi\"}}}", "models.T4.memory: must be positive"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"memory\": \"2Ei\"}}}", "models.T4.memory: more than 1Pi"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"labelValue\": \"Tesla T4\"}}}",
     "models.T4.labelValue: must be a label value (letters, digits, '-', '_' and '.', starting and ending with a "
     "letter or digit, at most 63 characters)"},
    {"{\"system\": \"nvidia\", \"models\": {\"T4\": {\"labelValue\": \"\"}}}",
     "models.T4.labelValue: must be a label value (letters, digits, '-', '_' and '.', starting and ending with a "
     "letter or digit, at most 63 characters)"},
    {"{\"system\": \"nvidia\", \"defaultModel\": \"V100\", " MODELS "}",
     "defaultModel: \"V100\" is not in models (known: A100, T4)"},
    {"{\"system\": \"nvidia\", \"defaultModel\": \"V100\"}", "defaultModel: \"V100\" is not in models (known: none)"},
    {"{\"system\": \"nvidia\", \"defaultModel\": 1, " MODELS "}", "defaultModel: must be the name of one of the models"},
    {"{\"system\": \"hami\", \"hami\": []}", "hami: must be an object"},
    {"{\"system\": \"hami\", \"hami\": {\"memoryMode\": \"MiB\"}}", "hami.memoryMode: must be \"bytes\" or \"percentage\""},
    {"{\"system\": \"hami\", \"hami\": {\"mode\": \"bytes\"}}", "hami.mode: unknown field"},
};

START_TEST(profile_invalid) {
  const profile_bad *c = &profile_bad_cases[_i];
  json_error_t jerr;
  json_t *j = json_loads(c->json, JSON_DECODE_ANY, &jerr);
  ck_assert_msg(j != NULL, "bad JSON %s: %s", c->json, jerr.text);
  gpu_profile *p = (gpu_profile *)1;
  char err[512];
  ck_assert_int_eq(gpu_profile_parse(j, &p, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_ptr_null(p);
  ck_assert_str_eq(err, c->msg);
  json_decref(j);
}
END_TEST

static int parse_profile_once(void *arg) {
  json_t *j = json_loads(arg, 0, NULL);
  if (j == NULL) return CUBIT_ENOMEM;
  gpu_profile *p = NULL;
  int rc = gpu_profile_parse(j, &p, NULL, 0);
  gpu_profile_free(p);
  json_decref(j);
  return rc;
}

START_TEST(profile_allocation_failure) {
  char *json = xasprintf("{\"system\": \"hami\", \"defaultModel\": \"T4\", %s}", MODELS);
  ck_assert_int_ne(testutil_alloc_torture(parse_profile_once, json), 0);
  free(json);
}
END_TEST

/* ---- translation ---------------------------------------------------------------------- */

#define P_NVIDIA "{\"system\": \"nvidia\", \"defaultModel\": \"T4\", " MODELS "}"
#define P_HAMI "{\"system\": \"hami\", \"defaultModel\": \"T4\", " MODELS "}"
#define P_HAMI_NODEF "{\"system\": \"hami\", " MODELS "}"
#define P_HAMI_PCT "{\"system\": \"hami\", \"defaultModel\": \"T4\", \"hami\": {\"memoryMode\": \"percentage\"}, " MODELS "}"
#define P_HAMI_BYTES "{\"system\": \"hami\", \"hami\": {\"memoryMode\": \"bytes\"}, " MODELS "}"
#define P_VOLCANO "{\"system\": \"volcano-vgpu\", \"defaultModel\": \"T4\", " MODELS "}"
#define P_VOLCANO_NOMEM "{\"system\": \"volcano-vgpu\", \"models\": {\"T4\": {}}}"
#define P_VCUDA "{\"system\": \"vcuda\", \"defaultModel\": \"T4\", " MODELS "}"
#define P_VCUDA_NODEF "{\"system\": \"vcuda\", " MODELS "}"
#define P_VCUDA_NOMEM "{\"system\": \"vcuda\", \"defaultModel\": \"L4\", \"models\": {\"L4\": {}}}"
#define SEL_A100 "nvidia.com/gpu.product=NVIDIA-A100-SXM4-80GB"

typedef struct {
  const char *profile; /* NULL: no profile */
  const char *request;
  const char *limits;   /* "name=value,..." in order */
  const char *selector; /* "key=value" or "" */
  const char *visible;
  int64_t charged_milli; /* gpu_cards_milli of the limits */
} translate_ok;

static const translate_ok translate_ok_cases[] = {
    /* no profile: whole cards */
    {NULL, "2", "nvidia.com/gpu=2", "", "", 2000},
    {NULL, "0", "", "", "none", 0},
    {NULL, "-1", "", "", "all", 0},
    /* nvidia */
    {P_NVIDIA, "1", "nvidia.com/gpu=1", "", "", 1000},
    {P_NVIDIA, "4(A100)", "nvidia.com/gpu=4", SEL_A100, "", 4000},
    {P_NVIDIA, "1(nvidia,t4)", "nvidia.com/gpu=1", "nvidia.com/gpu.product=T4", "", 1000},
    {P_NVIDIA, "2(nvidia)", "nvidia.com/gpu=2", "", "", 2000},
    {P_NVIDIA, "0", "", "", "none", 0},
    {P_NVIDIA, "-1", "", "", "all", 0},
    {P_NVIDIA, "-1(A100)", "", SEL_A100, "all", 0},
    /* HAMi */
    {P_HAMI, "2", "nvidia.com/gpu=2", "", "", 2000},
    {P_HAMI, "1(A100)", "nvidia.com/gpu=1", SEL_A100, "", 1000},
    {P_HAMI, "0.5", "nvidia.com/gpu=1,nvidia.com/gpucores=50,nvidia.com/gpumem=8192", "", "", 500},
    {P_HAMI, "0.25(A100)", "nvidia.com/gpu=1,nvidia.com/gpucores=25,nvidia.com/gpumem=20480", SEL_A100, "", 250},
    {P_HAMI, "0.333", "nvidia.com/gpu=1,nvidia.com/gpucores=33,nvidia.com/gpumem=5455", "", "", 330},
    {P_HAMI, "0.125", "nvidia.com/gpu=1,nvidia.com/gpucores=12,nvidia.com/gpumem=2048", "", "", 120},
    {P_HAMI, "0.001", "nvidia.com/gpu=1,nvidia.com/gpucores=1,nvidia.com/gpumem=16", "", "", 10},
    {P_HAMI, "0.999", "nvidia.com/gpu=1,nvidia.com/gpucores=99,nvidia.com/gpumem=16367", "", "", 990},
    {P_HAMI_NODEF, "0.5", "nvidia.com/gpu=1,nvidia.com/gpucores=50,nvidia.com/gpumem-percentage=50", "", "", 500},
    {P_HAMI_PCT, "0.5", "nvidia.com/gpu=1,nvidia.com/gpucores=50,nvidia.com/gpumem-percentage=50", "", "", 500},
    {P_HAMI_PCT, "0.5(A100)", "nvidia.com/gpu=1,nvidia.com/gpucores=50,nvidia.com/gpumem-percentage=50", SEL_A100,
     "", 500},
    {P_HAMI_BYTES, "0.5(T4)", "nvidia.com/gpu=1,nvidia.com/gpucores=50,nvidia.com/gpumem=8192",
     "nvidia.com/gpu.product=T4", "", 500},
    {P_HAMI, "0", "", "", "none", 0},
    {P_HAMI, "-1", "", "", "all", 0},
    /* Volcano vGPU */
    {P_VOLCANO, "3", "volcano.sh/vgpu-number=3,volcano.sh/vgpu-cores=100", "", "", 3000},
    {P_VOLCANO, "1(A100)", "volcano.sh/vgpu-number=1,volcano.sh/vgpu-cores=100", SEL_A100, "", 1000},
    {P_VOLCANO, "0.5", "volcano.sh/vgpu-number=1,volcano.sh/vgpu-cores=50,volcano.sh/vgpu-memory=8192", "", "", 500},
    {P_VOLCANO, "0.2(A100)", "volcano.sh/vgpu-number=1,volcano.sh/vgpu-cores=20,volcano.sh/vgpu-memory=16384",
     SEL_A100, "", 200},
    {P_VOLCANO_NOMEM, "0.5(T4)", "volcano.sh/vgpu-number=1,volcano.sh/vgpu-cores=50,volcano.sh/vgpu-memory-percentage=50",
     "nvidia.com/gpu.product=T4", "", 500},
    {P_VOLCANO, "-1", "", "", "all", 0},
    /* TKE vcuda */
    {P_VCUDA, "1", "tencent.com/vcuda-core=100,tencent.com/vcuda-memory=64", "", "", 1000},
    {P_VCUDA, "2(A100)", "tencent.com/vcuda-core=200,tencent.com/vcuda-memory=640", SEL_A100, "", 2000},
    {P_VCUDA, "0.5", "tencent.com/vcuda-core=50,tencent.com/vcuda-memory=32", "", "", 500},
    {P_VCUDA, "0.333", "tencent.com/vcuda-core=33,tencent.com/vcuda-memory=21", "", "", 330},
    {P_VCUDA, "0.001", "tencent.com/vcuda-core=1,tencent.com/vcuda-memory=1", "", "", 10},
    {P_VCUDA_NODEF, "0.25(A100)", "tencent.com/vcuda-core=25,tencent.com/vcuda-memory=80", SEL_A100, "", 250},
    {P_VCUDA_NOMEM, "0", "", "", "none", 0},
    {P_VCUDA_NOMEM, "-1", "", "", "all", 0},
};

static void limits_text(const gpu_translation *t, char *out, size_t n) {
  size_t k = 0;
  out[0] = '\0';
  for (size_t i = 0; i < t->nlimits; i++)
    k += (size_t)snprintf(out + k, n - k, "%s%s=%s", i ? "," : "", t->limits[i].name, t->limits[i].value);
}

START_TEST(translate_valid) {
  const translate_ok *c = &translate_ok_cases[_i];
  gpu_profile *p = c->profile ? profile(c->profile) : NULL;
  gpu_request r;
  ck_assert_int_eq(gpu_request_parse(c->request, &r, NULL, 0), 0);
  gpu_translation t;
  char err[512] = "x";
  ck_assert_msg(gpu_translate(p, &r, &t, err, sizeof(err)) == 0, "%s: %s", c->request, err);
  ck_assert_str_eq(err, "");
  char lim[512];
  limits_text(&t, lim, sizeof(lim));
  ck_assert_str_eq(lim, c->limits);
  char sel[512];
  snprintf(sel, sizeof(sel), "%s%s%s", t.node_selector_key, t.node_selector_key[0] ? "=" : "",
           t.node_selector_value);
  ck_assert_str_eq(sel, c->selector);
  ck_assert_str_eq(t.visible_devices, c->visible);
  /* the quota counts what the translation wrote */
  json_t *res = json_object();
  for (size_t i = 0; i < t.nlimits; i++) json_object_set_new(res, t.limits[i].name, json_string(t.limits[i].value));
  ck_assert_int_eq(gpu_cards_milli(res), c->charged_milli);
  json_decref(res);
  gpu_profile_free(p);
}
END_TEST

typedef struct {
  const char *profile;
  const char *request;
  const char *msg;
} translate_bad;

static const translate_bad translate_bad_cases[] = {
    {P_NVIDIA, "0.5",
     "GPU request \"0.5\": the cluster's GPU profile (system nvidia) allocates whole cards; request a whole number "
     "of cards, or ask the administrator for a GPU-sharing system (hami, volcano-vgpu or vcuda)"},
    {NULL, "1.5(nvidia)",
     "GPU request \"1.5(nvidia)\": the cluster's GPU profile (system nvidia) allocates whole cards; request a whole "
     "number of cards, or ask the administrator for a GPU-sharing system (hami, volcano-vgpu or vcuda)"},
    {P_HAMI, "1.5",
     "GPU request \"1.5\": hami shares one card between pods; above one card, request a whole number of cards"},
    {P_VOLCANO, "2.25(A100)",
     "GPU request \"2.25(A100)\": volcano-vgpu shares one card between pods; above one card, request a whole "
     "number of cards"},
    {P_VCUDA, "1.5",
     "GPU request \"1.5\": vcuda shares one card between pods; above one card, request a whole number of cards"},
    {P_NVIDIA, "1(V100)", "GPU request \"1(V100)\": model V100 is not in the cluster's GPU profile (known: A100, T4)"},
    {P_HAMI, "0.5(nvidia,H100)",
     "GPU request \"0.5(nvidia,H100)\": model H100 is not in the cluster's GPU profile (known: A100, T4)"},
    {NULL, "1(A100)", "GPU request \"1(A100)\": model A100 is not in the cluster's GPU profile (known: none)"},
    {P_VCUDA, "-1(V100)", "GPU request \"-1(V100)\": model V100 is not in the cluster's GPU profile (known: A100, T4)"},
    {P_VCUDA_NODEF, "0.5",
     "GPU request \"0.5\": system vcuda needs the card's memory: name a model in brackets, or set defaultModel and "
     "its memory in the cluster's GPU profile"},
    {P_VCUDA_NOMEM, "1",
     "GPU request \"1\": system vcuda needs the card's memory: set models.L4.memory in the cluster's GPU profile"},
    {P_HAMI_BYTES, "0.5",
     "GPU request \"0.5\": hami.memoryMode is bytes but the card's memory is unknown: name a model in brackets, or "
     "set defaultModel and its memory in the cluster's GPU profile"},
};

START_TEST(translate_invalid) {
  const translate_bad *c = &translate_bad_cases[_i];
  gpu_profile *p = c->profile ? profile(c->profile) : NULL;
  gpu_request r;
  ck_assert_int_eq(gpu_request_parse(c->request, &r, NULL, 0), 0);
  gpu_translation t;
  memset(&t, 0x5a, sizeof(t));
  char err[512];
  ck_assert_int_eq(gpu_translate(p, &r, &t, err, sizeof(err)), CUBIT_EINVAL);
  ck_assert_str_eq(err, c->msg);
  ck_assert_uint_eq(t.nlimits, 0);
  gpu_profile_free(p);
}
END_TEST

/* The examples of docs/gpu.md, with its profile and each system. */
START_TEST(docs_examples) {
  static const char *profile_fmt =
      "{\"system\": \"%s\", \"modelLabel\": \"nvidia.com/gpu.product\", \"defaultModel\": \"T4\", "
      "\"models\": {\"A100\": {\"memory\": \"81920Mi\", \"labelValue\": \"NVIDIA-A100-SXM4-80GB\"}, "
      "\"T4\": {\"memory\": \"15360Mi\", \"labelValue\": \"Tesla-T4\"}}}";
  static const struct {
    const char *system, *request, *limits;
  } cases[] = {
      {"hami", "2", "nvidia.com/gpu=2"},
      {"hami", "0.5", "nvidia.com/gpu=1,nvidia.com/gpucores=50,nvidia.com/gpumem=7680"},
      {"hami", "0.25(A100)", "nvidia.com/gpu=1,nvidia.com/gpucores=25,nvidia.com/gpumem=20480"},
      {"volcano-vgpu", "2", "volcano.sh/vgpu-number=2,volcano.sh/vgpu-cores=100"},
      {"volcano-vgpu", "0.5", "volcano.sh/vgpu-number=1,volcano.sh/vgpu-cores=50,volcano.sh/vgpu-memory=7680"},
      {"volcano-vgpu", "0.25(A100)", "volcano.sh/vgpu-number=1,volcano.sh/vgpu-cores=25,volcano.sh/vgpu-memory=20480"},
      {"vcuda", "2", "tencent.com/vcuda-core=200,tencent.com/vcuda-memory=120"},
      {"vcuda", "0.5", "tencent.com/vcuda-core=50,tencent.com/vcuda-memory=30"},
      {"vcuda", "0.25(A100)", "tencent.com/vcuda-core=25,tencent.com/vcuda-memory=80"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *json = xasprintf(profile_fmt, cases[i].system);
    gpu_profile *p = profile(json);
    gpu_request r;
    ck_assert_int_eq(gpu_request_parse(cases[i].request, &r, NULL, 0), 0);
    gpu_translation t;
    ck_assert_int_eq(gpu_translate(p, &r, &t, NULL, 0), 0);
    char lim[512];
    limits_text(&t, lim, sizeof(lim));
    ck_assert_str_eq(lim, cases[i].limits);
    ck_assert_str_eq(t.node_selector_value, r.model[0] ? "NVIDIA-A100-SXM4-80GB" : "");
    gpu_profile_free(p);
    free(json);
  }
}
END_TEST

/* ---- counting cards and memory back --------------------------------------------------- */

typedef struct {
  const char *resources;
  const char *model; /* for memory; NULL = the profile's default (T4) */
  int64_t milli;
  int64_t memory;
} count_case;

static const count_case count_cases[] = {
    {"{}", NULL, 0, 0},
    {"{\"cpu\": \"2\", \"memory\": \"1Gi\"}", NULL, 0, 0},
    /* whole cards */
    {"{\"nvidia.com/gpu\": \"2\"}", NULL, 2000, 32 * GI},
    {"{\"nvidia.com/gpu\": 2}", "A100", 2000, 160 * GI},
    {"{\"nvidia.com/gpu\": \"1\"}", "V100", 1000, 0},
    /* HAMi */
    {"{\"nvidia.com/gpu\": \"1\", \"nvidia.com/gpucores\": \"50\", \"nvidia.com/gpumem\": \"8192\"}", NULL, 500, 8 * GI},
    {"{\"nvidia.com/gpu\": \"2\", \"nvidia.com/gpucores\": \"30\", \"nvidia.com/gpumem-percentage\": \"25\"}", NULL,
     600, 8 * GI},
    {"{\"nvidia.com/gpu\": \"2\", \"nvidia.com/gpumem\": \"3000\"}", NULL, 2000, 6000 * MI},
    {"{\"nvidia.com/gpu\": \"1\", \"nvidia.com/gpucores\": \"50\"}", NULL, 500, 16 * GI},
    {"{\"nvidia.com/gpucores\": \"50\", \"nvidia.com/gpumem\": \"4000\"}", NULL, 500, 4000 * MI},
    {"{\"nvidia.com/gpumem\": \"4000\"}", NULL, 1000, 4000 * MI},
    {"{\"nvidia.com/gpumem-percentage\": \"50\"}", "A100", 1000, 40 * GI},
    /* cores 0 is "no compute limit" to HAMi: whole cards (issue 13: 8 cards
     * with gpucores 0 were counted as none) */
    {"{\"nvidia.com/gpu\": \"8\", \"nvidia.com/gpucores\": \"0\"}", NULL, 8000, 128 * GI},
    {"{\"nvidia.com/gpu\": 8, \"nvidia.com/gpucores\": 0}", NULL, 8000, 128 * GI},
    {"{\"nvidia.com/gpucores\": \"0\"}", NULL, 1000, 16 * GI},
    /* Volcano vGPU */
    {"{\"volcano.sh/vgpu-number\": 2, \"volcano.sh/vgpu-cores\": 50, \"volcano.sh/vgpu-memory\": \"3000\"}", NULL,
     1000, 6000 * MI},
    {"{\"volcano.sh/vgpu-number\": \"1\"}", NULL, 1000, 16 * GI},
    {"{\"volcano.sh/vgpu-number\": \"3\", \"volcano.sh/vgpu-cores\": \"100\"}", "A100", 3000, 240 * GI},
    {"{\"volcano.sh/vgpu-memory\": 1024}", NULL, 1000, 1 * GI},
    {"{\"volcano.sh/vgpu-number\": \"4\", \"volcano.sh/vgpu-cores\": \"0\"}", NULL, 4000, 64 * GI},
    {"{\"volcano.sh/vgpu-number\": 1, \"volcano.sh/vgpu-cores\": 25, \"volcano.sh/vgpu-memory-percentage\": 25}",
     NULL, 250, 4 * GI},
    /* TKE vcuda */
    {"{\"tencent.com/vcuda-core\": \"50\", \"tencent.com/vcuda-memory\": \"32\"}", NULL, 500, 8 * GI},
    {"{\"tencent.com/vcuda-core\": \"200\"}", NULL, 2000, 32 * GI},
    {"{\"tencent.com/vcuda-core\": \"25\", \"tencent.com/vcuda-memory\": 1}", NULL, 250, 256 * MI},
    /* several systems in one map add up */
    {"{\"nvidia.com/gpu\": \"1\", \"tencent.com/vcuda-core\": \"50\", \"volcano.sh/vgpu-number\": \"1\", "
     "\"volcano.sh/vgpu-cores\": \"10\"}",
     NULL, 1600, 16 * GI + 16 * GI + 8 * GI},
    /* quantities in other spellings, and ones that do not parse */
    /* cores are a percentage of one card: above 100 is still one card */
    {"{\"nvidia.com/gpu\": \"1e0\", \"nvidia.com/gpucores\": \"0.5k\"}", NULL, 1000, 16 * GI},
    {"{\"nvidia.com/gpu\": 0.5}", NULL, 1000, 16 * GI},
    {"{\"nvidia.com/gpu\": \"abc\"}", NULL, 0, 0},
    {"{\"nvidia.com/gpu\": \"-1\"}", NULL, 0, 0},
    {"{\"nvidia.com/gpu\": true}", NULL, 0, 0},
    {"{\"nvidia.com/gpu\": \"1e30\", \"nvidia.com/gpumem\": \"1e30\"}", NULL, ((int64_t)1 << 32) * 1000, INT64_MAX},
};

START_TEST(counts_cards_and_memory) {
  const count_case *c = &count_cases[_i];
  gpu_profile *p = profile(P_HAMI);
  json_t *res = json_loads(c->resources, 0, NULL);
  ck_assert_ptr_nonnull(res);
  ck_assert_msg(gpu_cards_milli(res) == c->milli, "%s: cards %lld, want %lld", c->resources,
                (long long)gpu_cards_milli(res), (long long)c->milli);
  int64_t mem = gpu_memory_bytes(res, p, c->model);
  ck_assert_msg(mem == c->memory, "%s: memory %lld, want %lld", c->resources, (long long)mem, (long long)c->memory);
  json_decref(res);
  gpu_profile_free(p);
}
END_TEST

START_TEST(counts_without_profile_or_map) {
  ck_assert_int_eq(gpu_cards_milli(NULL), 0);
  json_t *arr = json_array();
  ck_assert_int_eq(gpu_cards_milli(arr), 0);
  ck_assert_int_eq(gpu_memory_bytes(arr, NULL, NULL), 0);
  json_decref(arr);
  json_t *res = json_pack("{s:s, s:s}", "nvidia.com/gpu", "2", "tencent.com/vcuda-memory", "4");
  ck_assert_int_eq(gpu_memory_bytes(res, NULL, NULL), 4 * 256 * MI); /* whole cards unknown without a profile */
  ck_assert_int_eq(gpu_memory_bytes(NULL, NULL, NULL), 0);
  json_decref(res);
}
END_TEST

int main(void) {
  Suite *s = suite_create("gpu");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, grammar_valid, 0, (int)(sizeof(grammar_ok_cases) / sizeof(grammar_ok_cases[0])));
  tcase_add_loop_test(tc, grammar_invalid, 0, (int)(sizeof(grammar_bad_cases) / sizeof(grammar_bad_cases[0])));
  tcase_add_test(tc, grammar_null_and_formatting);
  tcase_add_test(tc, profile_fields);
  tcase_add_loop_test(tc, profile_invalid, 0, (int)(sizeof(profile_bad_cases) / sizeof(profile_bad_cases[0])));
  tcase_add_test(tc, profile_allocation_failure);
  tcase_add_loop_test(tc, translate_valid, 0, (int)(sizeof(translate_ok_cases) / sizeof(translate_ok_cases[0])));
  tcase_add_loop_test(tc, translate_invalid, 0, (int)(sizeof(translate_bad_cases) / sizeof(translate_bad_cases[0])));
  tcase_add_test(tc, docs_examples);
  tcase_add_loop_test(tc, counts_cards_and_memory, 0, (int)(sizeof(count_cases) / sizeof(count_cases[0])));
  tcase_add_test(tc, counts_without_profile_or_map);
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
