/* pkg/runtime/guard: every write the manager must never make is refused
 * before it is sent, and every write it makes passes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/guard.h"
#include "testutil.h"
#include "util/err.h"

/* Namespaces the guard may look up: "made" was created by a Project,
 * "adopted" carries only the project label, "gone" does not exist,
 * "unreadable" cannot be read. */
static int labels_of(void *arg, const char *name, json_t **out) {
  int *calls = arg;
  (*calls)++;
  *out = NULL;
  if (strcmp(name, "made") == 0) {
    *out = json_pack("{s:s, s:s}", "cubit.dev/project", "team", RT_ANNOTATION_CREATED_BY_PROJECT, "team");
    return 0;
  }
  if (strcmp(name, "adopted") == 0) {
    *out = json_pack("{s:s}", "cubit.dev/project", "team");
    return 0;
  }
  if (strcmp(name, "gone") == 0) return CUBIT_ENOTFOUND;
  if (strcmp(name, "unreadable") == 0) return CUBIT_ETIMEOUT;
  *out = json_object();
  return 0;
}

typedef struct guard_case {
  const char *name;
  const char *method, *path, *body;
  int rc;
  const char *why_part;
} guard_case;

#define FORBIDDEN CUBIT_EFORBIDDEN

static const guard_case cases[] = {
    /* what the manager does */
    {"apply a pod in a project namespace", "PATCH", "/api/v1/namespaces/team-a/pods/dbg?fieldManager=cubit-manager&force=true", NULL, 0, NULL},
    {"create a job", "POST", "/apis/batch/v1/namespaces/team-a/jobs", "{}", 0, NULL},
    {"delete a deployment", "DELETE", "/apis/apps/v1/namespaces/team-a/deployments/r1", NULL, 0, NULL},
    {"status of a notebook", "PATCH", "/apis/cubit.dev/v1alpha1/namespaces/team-a/notebooks/nb/status", NULL, 0, NULL},
    {"an event in a project namespace", "POST", "/api/v1/namespaces/team-a/events", "{}", 0, NULL},
    {"the lease", "PUT", "/apis/coordination.k8s.io/v1/namespaces/cubit-system/leases/cubit-manager-leader", "{}", 0, NULL},
    {"the webhook certificate", "PUT", "/api/v1/namespaces/cubit-system/secrets/cubit-webhook-certs", "{}", 0, NULL},
    {"an event in its namespace", "PATCH", "/api/v1/namespaces/cubit-system/events/e1", "{}", 0, NULL},
    {"apply a project namespace", "PATCH", "/api/v1/namespaces/team-a?fieldManager=cubit-manager", "{}", 0, NULL},
    {"create a namespace", "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"team-b\"}}", 0, NULL},
    {"delete a namespace a Project made", "DELETE", "/api/v1/namespaces/made", "{}", 0, NULL},
    {"delete a namespace that is gone", "DELETE", "/api/v1/namespaces/gone", "{}", CUBIT_ENOTFOUND, NULL},
    {"a per-project ClusterRole", "PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/cubit-project:team:admin", "{}", 0, NULL},
    {"a per-project ClusterRoleBinding gone", "DELETE",
     "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/cubit-project:team:admin", "{}", 0, NULL},
    {"a RoleBinding in a project namespace", "PATCH",
     "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/cubit-project-edit", "{}", 0, NULL},
    {"the webhook configuration", "PUT",
     "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/cubit-webhook", "{}", 0, NULL},
    {"a token review", "POST", "/apis/authentication.k8s.io/v1/tokenreviews", "{}", 0, NULL},
    {"a Volcano queue", "PATCH", "/apis/scheduling.volcano.sh/v1beta1/queues/team", "{}", 0, NULL},
    {"reads are never checked", "GET", "/api/v1/namespaces/kube-system/secrets", NULL, 0, NULL},
    {"not an API path", "POST", "/version", NULL, 0, NULL},
    /* what it must never do */
    {"a pod in kube-system", "PATCH", "/api/v1/namespaces/kube-system/pods/x", NULL, FORBIDDEN, "system namespace kube-system"},
    {"a deployment in kube-public", "POST", "/apis/apps/v1/namespaces/kube-public/deployments", "{}", FORBIDDEN,
     "system namespace kube-public"},
    {"a lease in kube-node-lease", "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "{}",
     FORBIDDEN, "system namespace"},
    {"an event in kube-system", "POST", "/api/v1/namespaces/kube-system/events", "{}", FORBIDDEN, "system namespace"},
    {"a pod in its own namespace", "POST", "/api/v1/namespaces/cubit-system/pods", "{}", FORBIDDEN,
     "only its leases, secrets and events"},
    {"a job in its own namespace", "PATCH", "/apis/batch/v1/namespaces/cubit-system/jobs/j", "{}", FORBIDDEN,
     "manager's namespace cubit-system"},
    {"a RoleBinding in its own namespace", "PATCH",
     "/apis/rbac.authorization.k8s.io/v1/namespaces/cubit-system/rolebindings/cubit-project-admin", "{}", FORBIDDEN,
     "manager's namespace"},
    {"label kube-system", "PATCH", "/api/v1/namespaces/kube-system", "{}", FORBIDDEN, "system namespace"},
    {"label its own namespace", "PATCH", "/api/v1/namespaces/cubit-system?fieldManager=x", "{}", FORBIDDEN,
     "namespace cubit-system is a system namespace"},
    {"finalize kube-public", "PUT", "/api/v1/namespaces/kube-public/finalize", "{}", FORBIDDEN, "system namespace"},
    {"delete kube-system", "DELETE", "/api/v1/namespaces/kube-system", "{}", FORBIDDEN, "system namespace"},
    {"delete an adopted namespace", "DELETE", "/api/v1/namespaces/adopted", "{}", FORBIDDEN,
     "namespace adopted was not created by a Project"},
    {"delete any other namespace", "DELETE", "/api/v1/namespaces/default", "{}", FORBIDDEN, "not created by a Project"},
    {"delete a namespace not readable", "DELETE", "/api/v1/namespaces/unreadable", "{}", CUBIT_ETIMEOUT,
     "cannot read its annotations"},
    {"create kube-system", "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"kube-system\"}}", FORBIDDEN,
     "system namespace"},
    {"delete every namespace", "DELETE", "/api/v1/namespaces", "{}", FORBIDDEN, "every namespaces at once"},
    {"delete every pod of a namespace", "DELETE", "/api/v1/namespaces/team-a/pods", "{}", FORBIDDEN, "at once"},
    {"update cluster-admin", "PUT", "/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin", "{}", FORBIDDEN,
     "clusterroles cluster-admin is not one of the per-project ones"},
    {"patch the static project role", "PATCH", "/apis/rbac.authorization.k8s.io/v1/clusterroles/cubit-project-admin",
     "{}", FORBIDDEN, "not one of the per-project ones"},
    {"create a cluster binding", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
     "{\"metadata\":{\"name\":\"pwn\"}}", FORBIDDEN, "clusterrolebindings pwn"},
    {"create an unnamed cluster role", "POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", "{}", FORBIDDEN,
     "(unnamed)"},
};

START_TEST(decisions) {
  const guard_case *c = &cases[_i];
  rt_guard_options o = {"cubit-system", "cubit-project:"};
  char why[512] = "";
  int calls = 0;
  int rc = rt_guard_decide(&o, c->method, c->path, c->body, c->body ? strlen(c->body) : 0, labels_of, &calls, why,
                           sizeof(why));
  ck_assert_msg(rc == c->rc, "%s: %s %s gave %d (%s), want %d", c->name, c->method, c->path, rc, why, c->rc);
  if (c->why_part) ck_assert_msg(strstr(why, c->why_part) != NULL, "%s: reason \"%s\" lacks \"%s\"", c->name, why, c->why_part);
  /* the API server is asked only about a namespace to delete */
  int deletes_ns = strcmp(c->method, "DELETE") == 0 && strncmp(c->path, "/api/v1/namespaces/", 19) == 0 &&
                   strchr(c->path + 19, '/') == NULL && strstr(c->path, "kube-") == NULL;
  ck_assert_int_eq(calls, deletes_ns ? 1 : 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("guard");
  TCase *tc = tcase_create("core");
  tcase_add_loop_test(tc, decisions, 0, (int)(sizeof(cases) / sizeof(cases[0])));
  suite_add_tcase(s, tc);
  return testutil_run(s);
}
