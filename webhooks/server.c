#include "webhooks/server.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/time.h"

static void serve(const http_request *hreq, http_response *hresp, void *arg) {
  webhook_route *rt = arg;
  double t0 = time_mono_s();
  adm_request req;
  char err[512];
  if (adm_request_parse(hreq->body, hreq->body_len, &req, err, sizeof(err))) {
    hresp->status = 400;
    if (buf_appends(&hresp->body, err)) hresp->status = 500;
    log_warn("webhook", "bad admission request", "webhook=%s error=\"%s\"", rt->name, err);
    return;
  }
  adm_response resp;
  adm_response_init(&resp);
  rt->handler(&req, &resp, rt->arg);
  char *out = adm_response_json(&req, &resp);
  hresp->status = 200;
  hresp->content_type = "application/json";
  if (buf_appends(&hresp->body, out)) hresp->status = 500;
  metric_add(rt->requests, 1, rt->name, resp.allowed ? "true" : "false");
  metric_observe(rt->duration, time_mono_s() - t0, rt->name);
  if (!resp.allowed)
    log_info("webhook", "denied", "webhook=%s kind=%s namespace=%s name=%s user=%s message=\"%s\"", rt->name,
             req.kind, req.namespace, req.name, req.username, resp.message);
  else
    log_v(3, "webhook", "allowed", "webhook=%s kind=%s namespace=%s name=%s patch_ops=%zu", rt->name, req.kind,
          req.namespace, req.name, resp.patch ? json_array_size(resp.patch) : (size_t)0);
  free(out);
  adm_response_free(&resp);
  adm_request_free(&req);
}

static const double latency_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};

int webhook_serve(http_server *s, metrics_registry *metrics, webhook_route *rt, const char *path,
                  const char *name, adm_handler_fn handler, void *arg) {
  memset(rt, 0, sizeof(*rt));
  rt->name = name;
  rt->handler = handler;
  rt->arg = arg;
  if (metrics) {
    rt->requests = metrics_counter(metrics, "cubit_admission_requests_total",
                                   "Admission reviews answered, by webhook and decision", "webhook,allowed");
    rt->duration = metrics_histogram(metrics, "cubit_admission_duration_seconds",
                                     "Time to decide one admission review", "webhook", latency_buckets,
                                     sizeof(latency_buckets) / sizeof(latency_buckets[0]));
  }
  return http_server_route(s, path, "POST", ADM_MAX_REVIEW_BYTES, serve, rt, HTTP_ROUTE_OFFLOAD);
}
