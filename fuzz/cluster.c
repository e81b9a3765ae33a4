/* The Cluster kind's inputs (api/cluster, pkg/kube): a Cluster object's spec
 * and the kubeconfig a member's Secret holds. Input: the bytes, read both as
 * a Cluster (JSON) and as an in-memory kubeconfig.
 *
 * Properties:
 *   - a Cluster is parsed, or refused with CUBIT_EINVAL and a message; a
 *     parsed one names its Secret and the key to read;
 *   - a Secret's kubeconfig is loaded or refused (never read from a file or
 *     run as a command: such fields are refused), and a loaded one has a
 *     server. */
#include <jansson.h>

#include "api/cluster/cluster.h"
#include "fuzz.h"
#include "kube/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
  if (j) {
    cluster_spec spec;
    char err[512] = "";
    int rc = cluster_spec_parse(j, &spec, err, sizeof(err));
    if (rc) FUZZ_ASSERT(rc == CUBIT_EINVAL && err[0], "cluster_spec_parse: %d %s", rc, err);
    else FUZZ_ASSERT(spec.secret_name && spec.secret_name[0] && spec.secret_key && spec.secret_key[0],
                     "a parsed Cluster without a Secret name or key");
    json_decref(j);
  }
  kube_config cfg;
  char err[512] = "";
  int rc = kube_config_load_inline((const char *)data, size, "Secret fuzz/member key kubeconfig", NULL, &cfg, err,
                                   sizeof(err));
  if (rc == 0) {
    FUZZ_ASSERT(cfg.server && cfg.server[0], "a loaded kubeconfig without a server");
    kube_config_free(&cfg);
  } else {
    FUZZ_ASSERT(rc == CUBIT_EINVAL || rc == CUBIT_ENOMEM, "kube_config_load_inline returned %d: %s", rc, err);
  }
  return 0;
}
