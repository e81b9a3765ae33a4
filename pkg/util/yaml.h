/* YAML to JSON (jansson), reading Kubernetes YAML the way kubectl does.
 *
 * kubectl turns YAML into JSON with sigs.k8s.io/yaml, a fork of go-yaml v2,
 * before anything else looks at it. These functions produce the same JSON
 * for the same text, so a manifest, a CRD or a config file means here what
 * it means to kubectl and the API server.
 *
 * Plain (unquoted) scalars are resolved by the YAML 1.2 core schema plus the
 * YAML 1.1 forms that go-yaml v2 still reads:
 *   null   "", ~, null, Null, NULL
 *   bool   true/True/TRUE, false/False/FALSE, and (1.1) y/Y/yes/Yes/YES,
 *          n/N/no/No/NO, on/On/ON, off/Off/OFF
 *   int    decimal with an optional sign ("-12", "+3"), 0x1F, 0o17, 0b101,
 *          and (1.1) a leading zero for octal ("0644" is 420, as in a
 *          volume's defaultMode); '_' between digits is ignored ("1_000")
 *   float  [-+]?(.digits | digits[.digits])([eE][-+]?digits)?, .inf, .nan
 *   string everything else, timestamps included
 * Quoted and block scalars are strings. A float with an integral value
 * within int64 becomes a JSON integer ("2.0" -> 2), as kubectl's JSON prints
 * it; an integer beyond int64 becomes a real (jansson has no wider integer);
 * .inf and .nan have no JSON form and are an error, as in kubectl.
 *
 * Tags: !!str forces a string; !!int, !!float, !!bool and !!null require a
 * value of that type; !!binary is refused; "!" and unknown tags give a
 * string. Mapping keys become strings: an int key its decimal value, a bool
 * key "true"/"false", a float key its text; a null, sequence or mapping key
 * is an error. Anchors and aliases are supported (an alias is a deep copy,
 * so the result has no shared nodes), as are merge keys ("<<: *base" or
 * "<<: [*a, *b]"; keys written in the mapping win, then the sources of a
 * later "<<", then within one "<<" the earlier source).
 *
 * Differences from kubectl, all on input kubectl treats loosely: a
 * duplicate key is an error (go-yaml keeps the last one silently); a key
 * written before a merge key "<<" wins over the merged one, as the YAML
 * merge spec says (go-yaml v2 lets the merge overwrite it); an integer
 * above INT64_MAX becomes an inexact real; a float key keeps its text
 * ("1e7", where kubectl writes "1e+07").
 *
 * Limits: nesting deeper than YAML_MAX_DEPTH is CUBIT_ETOOBIG, as is a
 * document whose aliases would copy more than YAML_MAX_ALIAS_NODES nodes
 * (the "billion laughs"). Errors carry the 1-based line and column, or
 * the byte offset for text that is not valid UTF-8.
 *
 * YAML is external input: everything allocates with malloc and fails with
 * CUBIT_ENOMEM, leaking nothing. */
#ifndef CUBIT_UTIL_YAML_H
#define CUBIT_UTIL_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

#define YAML_MAX_DEPTH 512
#define YAML_MAX_ALIAS_NODES 1000000

/* Parses one YAML document. On success *out is a new reference the caller
 * owns: the document's value, or JSON null for an empty stream or document.
 * A stream with more than one non-empty document is CUBIT_EINVAL (use
 * yaml_to_json_all). On failure *out is NULL and errbuf (may be NULL) holds
 * "line L, column C: reason" ("byte B: reason" for invalid UTF-8). Returns 0, CUBIT_EINVAL, CUBIT_ETOOBIG or
 * CUBIT_ENOMEM. */
int yaml_to_json(const char *text, size_t len, json_t **out, char *errbuf, size_t errlen) CUBIT_WUR;

/* Parses a stream of documents separated by "---" into a new JSON array
 * the caller owns, one element per document, leaving out empty documents
 * (and those that are only null), as kubectl does. Errors as above. */
int yaml_to_json_all(const char *text, size_t len, json_t **out, char *errbuf, size_t errlen) CUBIT_WUR;

#endif
