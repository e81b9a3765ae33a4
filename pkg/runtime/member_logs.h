/* Pod logs of a placed object's children in a member cluster, served by the
 * hub's manager (docs/multicluster.md#logs-of-placed-objects).
 *
 * A user of the hub cannot reach a member; the manager can. The manager's
 * webhook server (reached through the API server's service proxy to the
 * Service cubit-webhook, or directly) answers
 *
 *   GET /cluster-logs/v1/namespaces/NS/PLURAL/NAME/pods
 *       the member pods of hub object PLURAL NS/NAME: {cluster, items}
 *   GET /cluster-logs/v1/namespaces/NS/PLURAL/NAME/pods/POD/log
 *       ?container=C&tailLines=N&limitBytes=N&sinceTime=RFC3339&timestamps=true
 *       one of them's log, text/plain
 *
 * The caller's bearer token (Authorization, or X-Cubit-Authorization
 * through the service proxy, which removes Authorization) is reviewed
 * (TokenReview), and the caller must be allowed on the hub what kubectl
 * logs would need: `list pods` (the listing) or `get pods/log` (a log) in
 * NS (SubjectAccessReview). Only pods carrying the label that names NAME in
 * the member the object is placed on (its status.cluster) are served. A log
 * is at most RT_LOGS_MAX_BYTES; there is no server-side follow: a follower
 * asks again with sinceTime and timestamps (kubectl-cubit does). Errors are
 * {reason, message} JSON. */
#ifndef CUBIT_RUNTIME_MEMBER_LOGS_H
#define CUBIT_RUNTIME_MEMBER_LOGS_H

#include <jansson.h>
#include <stddef.h>

#include "runtime/authz.h"
#include "util/buf.h"
#include "util/err.h"

#define RT_LOGS_PREFIX "/cluster-logs/v1/"
#define RT_LOGS_MAX_BYTES (8L << 20)
#define RT_LOGS_MAX_LINES 100000L

typedef struct rt_logs_request {
  char ns[64], plural[64], name[254];
  int want_log;      /* .../pods/POD/log; 0: the listing .../pods */
  char pod[254], container[64];
  long tail_lines;   /* -1: all */
  long limit_bytes;  /* RT_LOGS_MAX_BYTES when not asked for less */
  char since_time[32]; /* canonical RFC 3339, "" for none */
  int timestamps;
} rt_logs_request;

/* Parses a request's path (as sent, starting with RT_LOGS_PREFIX) and query
 * ("" for none). 0, or CUBIT_EINVAL with a message naming the part and why. */
int rt_logs_parse(const char *path, const char *query, rt_logs_request *out, char *err, size_t errlen) CUBIT_WUR;

/* What the caller must be allowed on the hub for r. */
void rt_logs_access(const rt_logs_request *r, rt_access *out);

/* The member's query for r's log (a new string): what was asked, bounded. */
char *rt_logs_member_query(const rt_logs_request *r);

/* What serving needs, so that it is tested without a cluster. Each returns
 * as rt_authz_* do, or 0/an error code with 'why'. */
typedef struct rt_logs_deps {
  void *arg;
  int (*authenticate)(void *arg, const char *token, json_t **user, char *why, size_t whylen);
  int (*review)(void *arg, const json_t *user, const rt_access *access, char *why, size_t whylen);
  /* The hub object (a new reference) of the kind named by its plural, and
   * in *label the label its children carry naming it; NULL with *label
   * NULL for a kind not served here, NULL with *label set when not found. */
  json_t *(*owner)(void *arg, const char *plural, const char *ns, const char *name, const char **label);
  /* The member's pods in ns selected by 'selector' (*items: an array, new). */
  int (*list_pods)(void *arg, const char *cluster, const char *ns, const char *selector, json_t **items, char *why,
                   size_t whylen);
  /* The log of pod ns/pod in the member, with 'query', appended to out;
   * *http_status the member's answer (0: none). */
  int (*read_log)(void *arg, const char *cluster, const char *ns, const char *pod, const char *query,
                  cubit_buf *out, long *http_status, char *why, size_t whylen);
} rt_logs_deps;

/* Serves one GET: the HTTP status, the body appended to out, its
 * content type (static). */
int rt_logs_serve(const rt_logs_deps *d, const char *path, const char *query, const char *authorization,
                  cubit_buf *out, const char **content_type);

#endif
