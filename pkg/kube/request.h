/* Request plumbing shared by client.c, watch.c and portforward.c only. */
#ifndef CUBIT_KUBE_REQUEST_H
#define CUBIT_KUBE_REQUEST_H

#include <curl/curl.h>

#include "kube/client.h"

/* Sets on 'easy' everything a request to the API server needs except the
 * URL path and method (accept NULL = application/json): TLS trust and identity, credentials, user agent,
 * Accept. *headers receives a list the caller frees with
 * curl_slist_free_all after the transfer. Returns 0 or CUBIT_EIO/EEXEC with
 * the reason in st. */
int kube__prepare(kube_client *c, CURL *easy, const char *accept, struct curl_slist **headers,
                  kube_status *st);
/* The User-Agent the client sends (borrowed). */
const char *kube__user_agent(const kube_client *c);
/* Full URL for a path; caller frees. */
char *kube__url(kube_client *c, const char *path);
/* Translates a finished transfer into a code, filling st from the body
 * (a Status object) and Retry-After. */
int kube__result(kube_client *c, CURL *easy, CURLcode cc, const char *method, const char *body,
                 size_t body_len, kube_status *st);
/* Appends "?k=v&..." for the list options; caller frees. */
char *kube__list_query(CURL *easy, const kube_list_options *o, int watch);
/* Decodes one page of a List (p, len bytes) item by item, as
 * kube_list_each does: each item, with apiVersion and kind set, goes to
 * on_item (which owns it) as soon as it is decoded. *rv and *cont receive
 * the List's resourceVersion and continue token (NULL when absent; caller
 * frees). Returns 0, CUBIT_EINVAL with st->message when p is not a List,
 * or on_item's non-zero code. Exposed for tests. */
int kube__list_decode(const char *p, size_t len, const char *api_version, const char *kind, kube_item_cb on_item,
                      void *arg, char **rv, char **cont, kube_status *st) CUBIT_WUR;
/* Forgets cached credentials after a 401. */
void kube__invalidate_creds(kube_client *c);

#endif
