/* Cubit's GPU grammar, the cluster-wide GPU profile, and the translation of
 * one into the resources of the GPU-sharing system in use (docs/gpu.md).
 *
 * The grammar is one string wherever a GPU request is written (the pod
 * annotation cubit.dev/gpu, a container's cubit.dev/gpu limit, a
 * TrainingJob role's resources.gpu):
 *
 *   request ::= cards [ "(" [ vendor "," ] model ")" ]  |  "-1" [ "(" ... ")" ]
 *   cards   ::= digits [ "." digits ]      at most 3 decimals; "0" = no GPU
 *   vendor  ::= nvidia                     (case-insensitive)
 *   model   ::= a name of the profile's models (case-insensitive):
 *               letters, digits, '-', '_', '.', starting and ending with a
 *               letter or digit, at most 63 characters
 *
 * "-1" shares the node's GPUs without requesting any (the container sees
 * them all). A single bracket field naming a vendor ("2(nvidia)") is the
 * vendor, anything else is a model. Spaces around the whole string, before
 * '(' and around the fields are ignored. Numbers are read exactly, in
 * thousandths of a card, never through floating point.
 *
 * The profile is a JSON object (from the manager's config file):
 *
 *   {"system": "nvidia" | "hami" | "volcano-vgpu" | "vcuda",   required
 *    "modelLabel": "nvidia.com/gpu.product",                    the default
 *    "defaultModel": "T4",                                       optional
 *    "models": {"A100": {"memory": "80Gi",                       optional
 *                        "labelValue": "NVIDIA-A100-SXM4-80GB"}, default: the name
 *               "T4": {"memory": "15360Mi"}},
 *    "hami": {"memoryMode": "bytes" | "percentage"}}             optional
 *
 * memory is a Kubernetes quantity (or an integer of bytes): the memory of
 * one card as its device plugin reports it. Unknown fields are errors.
 *
 * Translation, per system (f = the fraction of one card, N = whole cards;
 * a percentage is f*100 rounded down to a whole percent, at least 1; a
 * memory is f times the card's memory rounded down, at least 1 unit):
 *   nvidia        nvidia.com/gpu: N; a fraction is refused
 *   hami          N: nvidia.com/gpu: N
 *                 f<1: nvidia.com/gpu: 1, nvidia.com/gpucores: pct, and
 *                 nvidia.com/gpumem: MiB, or nvidia.com/gpumem-percentage: pct
 *                 when the memory is unknown or hami.memoryMode is percentage
 *   volcano-vgpu  N: volcano.sh/vgpu-number: N, volcano.sh/vgpu-cores: 100
 *                 f<1: vgpu-number: 1, vgpu-cores: pct, and vgpu-memory: MiB,
 *                 or vgpu-memory-percentage: pct when the memory is unknown
 *   vcuda         tencent.com/vcuda-core: cards*100 (rounded down, at least
 *                 1), tencent.com/vcuda-memory: cards*memory in 256 MiB units
 *                 (rounded down, at least 1); the memory must be known
 * A fraction above one card ("1.5") is refused by every system. A model in
 * brackets must be in the profile and becomes a node selector modelLabel =
 * labelValue; without brackets, defaultModel only supplies the memory.
 * "0" sets NVIDIA_VISIBLE_DEVICES=none, "-1" sets it to all.
 *
 * Nothing here allocates except gpu_profile_parse (malloc, CUBIT_ENOMEM). */
#ifndef CUBIT_API_GPU_H
#define CUBIT_API_GPU_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Resource names of the systems, as their device plugins register them. */
#define GPU_RES_NVIDIA "nvidia.com/gpu"
#define GPU_RES_HAMI_CORES "nvidia.com/gpucores"
#define GPU_RES_HAMI_MEM "nvidia.com/gpumem"
#define GPU_RES_HAMI_MEM_PCT "nvidia.com/gpumem-percentage"
#define GPU_RES_VGPU_NUMBER "volcano.sh/vgpu-number"
#define GPU_RES_VGPU_CORES "volcano.sh/vgpu-cores"
#define GPU_RES_VGPU_MEM "volcano.sh/vgpu-memory"
#define GPU_RES_VGPU_MEM_PCT "volcano.sh/vgpu-memory-percentage"
#define GPU_RES_VCUDA_CORE "tencent.com/vcuda-core"
#define GPU_RES_VCUDA_MEM "tencent.com/vcuda-memory"
/* The grammar's own key, as an annotation and as a container limit. */
#define GPU_GRAMMAR_KEY "cubit.dev/gpu"

#define GPU_MAX_CARDS 1000000 /* a request above this is refused */
#define GPU_VENDOR_LEN 32
#define GPU_MODEL_LEN 64
#define GPU_REQUEST_STRLEN 128 /* room for gpu_request_format */
#define GPU_MILLI_STRLEN 32    /* room for gpu_format_milli */

typedef struct gpu_request {
  int64_t milli_cards;         /* thousandths of a card; 0 for "0" and for "-1" */
  int shared;                  /* "-1": sees the node's GPUs, requests none */
  char vendor[GPU_VENDOR_LEN]; /* "nvidia" or "" */
  char model[GPU_MODEL_LEN];   /* as written, or "" */
} gpu_request;

/* Parses the grammar. Returns 0, or CUBIT_EINVAL with a message naming the
 * value and the reason in err (may be NULL), e.g.
 *   GPU request "0.1234": more than 3 decimals (a request is exact to a thousandth of a card)
 * *out is zeroed on error. */
int gpu_request_parse(const char *s, gpu_request *out, char *err, size_t errlen) CUBIT_WUR;

/* The canonical string of r: "0.5", "2(A100)", "0.25(nvidia,T4)", "-1". */
void gpu_request_format(const gpu_request *r, char out[GPU_REQUEST_STRLEN]);

/* Thousandths of a card as a decimal: 2000 -> "2", 500 -> "0.5",
 * 1125 -> "1.125", -250 -> "-0.25". */
void gpu_format_milli(int64_t milli, char out[GPU_MILLI_STRLEN]);

typedef enum {
  GPU_SYSTEM_NVIDIA = 0, /* whole cards through the NVIDIA device plugin */
  GPU_SYSTEM_HAMI,
  GPU_SYSTEM_VOLCANO_VGPU,
  GPU_SYSTEM_VCUDA
} gpu_system;

/* "nvidia", "hami", "volcano-vgpu", "vcuda". */
const char *gpu_system_name(gpu_system s);

typedef enum { GPU_HAMI_MEMORY_AUTO = 0, GPU_HAMI_MEMORY_BYTES, GPU_HAMI_MEMORY_PERCENTAGE } gpu_hami_memory_mode;

/* An immutable, parsed profile; safe to share between threads. */
typedef struct gpu_profile gpu_profile;

/* Parses a profile object (borrowed). On success the caller owns *out and
 * frees it with gpu_profile_free. On failure *out is NULL and err names the
 * field: "models.A100.memory: must be positive". Returns 0, CUBIT_EINVAL or
 * CUBIT_ENOMEM. */
int gpu_profile_parse(const json_t *j, gpu_profile **out, char *err, size_t errlen) CUBIT_WUR;
void gpu_profile_free(gpu_profile *p);

/* Accessors; strings are owned by the profile. A NULL profile reads as
 * {"system": "nvidia"} with no models. */
gpu_system gpu_profile_system(const gpu_profile *p);
const char *gpu_profile_model_label(const gpu_profile *p);
const char *gpu_profile_default_model(const gpu_profile *p); /* NULL when unset */
gpu_hami_memory_mode gpu_profile_hami_memory_mode(const gpu_profile *p);
size_t gpu_profile_model_count(const gpu_profile *p);
/* The i-th model's name as the profile spells it. */
const char *gpu_profile_model_name(const gpu_profile *p, size_t i);
/* The profile's spelling of model (case-insensitive), or NULL when unknown. */
const char *gpu_profile_find_model(const gpu_profile *p, const char *model);
/* Bytes of one card of model (NULL: the default model); 0 when unknown. */
int64_t gpu_profile_model_memory(const gpu_profile *p, const char *model);
/* The node-label value of model, or NULL when the profile does not list it. */
const char *gpu_profile_model_label_value(const gpu_profile *p, const char *model);
/* The model whose labelValue is value, or NULL. */
const char *gpu_profile_model_for_label_value(const gpu_profile *p, const char *value);

#define GPU_MAX_LIMITS 4

typedef struct gpu_limit {
  char name[64];  /* a resource name, e.g. "nvidia.com/gpucores" */
  char value[24]; /* an integer quantity, e.g. "50" */
} gpu_limit;

typedef struct gpu_translation {
  gpu_limit limits[GPU_MAX_LIMITS]; /* container limits to set */
  size_t nlimits;
  char node_selector_key[320];   /* the profile's modelLabel, or "" for none */
  char node_selector_value[64];  /* the model's labelValue */
  char visible_devices[8];       /* NVIDIA_VISIBLE_DEVICES: "none", "all", or "" = leave alone */
} gpu_translation;

/* Translates r through p (NULL: whole cards, no models) into *out. Returns
 * 0, or CUBIT_EINVAL with a message naming the request and the remedy, e.g.
 *   GPU request "0.5": the cluster's GPU profile (system nvidia) allocates
 *   whole cards; request a whole number of cards, or ask the administrator
 *   for a GPU-sharing system (hami, volcano-vgpu or vcuda)
 * *out is zeroed first. */
int gpu_translate(const gpu_profile *p, const gpu_request *r, gpu_translation *out, char *err,
                  size_t errlen) CUBIT_WUR;

/* Cards, in thousandths, that one map of resource name -> quantity (a
 * container's effective requests or limits; borrowed, may be NULL) holds in
 * every system: nvidia.com/gpu (times gpucores/100 when gpucores is 1 to
 * 100), volcano.sh/vgpu-number times vgpu-cores/100 (likewise),
 * tencent.com/vcuda-core/100. Cores of 0, absent or above 100 count whole
 * cards: 0 is "no limit" to HAMi and Volcano, so nvidia.com/gpu: 8 with
 * nvidia.com/gpucores: 0 holds 8 cards. Unparsable quantities count as
 * absent; the sum saturates at INT64_MAX. */
int64_t gpu_cards_milli(const json_t *resources);

/* GPU memory in bytes that the same map holds: nvidia.com/gpumem MiB per
 * card, nvidia.com/gpumem-percentage or volcano.sh/vgpu-memory-percentage of
 * the card's memory, volcano.sh/vgpu-memory MiB per card,
 * tencent.com/vcuda-memory 256 MiB units, and whole cards times the card's
 * memory. The card is model (NULL: the profile's default model); where its
 * memory is unknown those terms are 0. Saturates at INT64_MAX. */
int64_t gpu_memory_bytes(const json_t *resources, const gpu_profile *p, const char *model);

#endif
