/* The manager's --config file, section by section. Each section is parsed by
 * its owner (api/gpu, api/gang, history, the controllers, the webhooks); this
 * module knows which sections exist and runs those parsers for main() and for
 * --check-config, so the chart's test feeds its rendered ConfigMap to exactly
 * what a starting manager runs. */
#ifndef CUBIT_CMD_MANAGER_SETTINGS_H
#define CUBIT_CMD_MANAGER_SETTINGS_H

#include <jansson.h>
#include <stddef.h>

#include "api/gang/gang.h"
#include "api/gpu/gpu.h"
#include "controllers/notebook/notebook.h"
#include "history/recorder.h"
#include "util/err.h"

/* The sections main() reads before it registers anything. The inference,
 * pipeline and tenancy sections are parsed at registration by their
 * controllers and webhooks. */
typedef struct mgr_settings {
  gpu_profile *gpu; /* owned; NULL without a "gpu" section (whole cards) */
  gang_config gang;
  hist_settings history;
  notebook_config notebooks; /* owned (notebook_config_free) */
} mgr_settings;

/* Parses the gpu, gang, history and notebook sections of config (borrowed).
 * CUBIT_EINVAL with "<section>: <reason>" in err; *out needs
 * mgr_settings_free either way. */
int mgr_settings_parse(const json_t *config, mgr_settings *out, char *err, size_t errlen) CUBIT_WUR;
void mgr_settings_free(mgr_settings *s);

/* Logs a warning for each top-level section no part of the manager reads. */
void mgr_settings_warn_unknown(const json_t *config);

/* --check-config: every section as a starting manager parses it (manager_user
 * is the manager's own username, counted among the webhooks' identities), and
 * a top-level section nobody reads is an error too. On success *effective
 * (caller owns) holds the settings in effect, defaults included. */
int mgr_settings_check(const json_t *config, const char *manager_user, json_t **effective, char *err,
                       size_t errlen) CUBIT_WUR;

#endif
