/* Serving admission handlers over pkg/http: each route decodes the
 * AdmissionReview, calls its handler on libuv's thread pool, and writes the
 * review back. Every replica serves webhooks, leader or not. */
#ifndef CUBIT_WEBHOOKS_SERVER_H
#define CUBIT_WEBHOOKS_SERVER_H

#include "http/server.h"
#include "util/metrics.h"
#include "webhooks/admission.h"

/* A handler decides on one request. It runs on a thread-pool thread and may
 * read the shared cache through 'arg'. */
typedef void (*adm_handler_fn)(const adm_request *req, adm_response *resp, void *arg);

/* One served webhook. The caller owns the storage (it must outlive the
 * server); its fields are private. */
typedef struct webhook_route {
  const char *name;
  adm_handler_fn handler;
  void *arg;
  metric *requests, *duration;
} webhook_route;

/* Serves handler at path (POST) using rt's storage. 'name' (a string that
 * outlives the server) labels logs and the metrics
 * cubit_admission_requests_total{webhook,allowed} and
 * cubit_admission_duration_seconds{webhook}. */
int webhook_serve(http_server *s, metrics_registry *metrics, webhook_route *rt, const char *path,
                  const char *name, adm_handler_fn handler, void *arg) CUBIT_WUR;

#endif
