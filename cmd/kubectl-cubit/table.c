/* Aligned text tables and machine-readable output (-o json|yaml|csv).
 * Pure: values in, text out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "util/alloc.h"

void cli_table_init(cli_table *t, size_t ncols) {
  memset(t, 0, sizeof(*t));
  t->ncols = ncols;
}

void cli_table_add(cli_table *t, const char *const *cells) {
  t->cells = xrealloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(char *));
  for (size_t c = 0; c < t->ncols; c++) t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
  t->nrows++;
}

/* Columns as wide as their widest cell, two spaces apart, no trailing
 * blanks. Widths count bytes: the cells are ASCII. */
int cli_table_write(const cli_table *t, cubit_buf *out) {
  size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof(*w));
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols; c++) {
      size_t n = strlen(t->cells[r * t->ncols + c]);
      if (n > w[c]) w[c] = n;
    }
  int rc = 0;
  for (size_t r = 0; r < t->nrows && rc == 0; r++) {
    size_t last = t->ncols;
    while (last > 0 && t->cells[r * t->ncols + last - 1][0] == '\0') last--;
    for (size_t c = 0; c < last && rc == 0; c++)
      rc = c + 1 < last ? buf_appendf(out, "%-*s  ", (int)w[c], t->cells[r * t->ncols + c])
                        : buf_appends(out, t->cells[r * t->ncols + c]);
    if (rc == 0) rc = buf_appends(out, "\n");
  }
  free(w);
  return rc ? CUBIT_ENOMEM : 0;
}

void cli_table_free(cli_table *t) {
  for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cells[i]);
  free(t->cells);
  memset(t, 0, sizeof(*t));
}

int cli_csv_field(const char *s, cubit_buf *out) {
  if (strpbrk(s, ",\"\r\n") == NULL) return buf_appends(out, s) ? CUBIT_ENOMEM : 0;
  if (buf_appends(out, "\"")) return CUBIT_ENOMEM;
  for (const char *p = s; *p; p++)
    if ((*p == '"' && buf_appends(out, "\"\"")) || (*p != '"' && buf_append(out, p, 1))) return CUBIT_ENOMEM;
  return buf_appends(out, "\"") ? CUBIT_ENOMEM : 0;
}

/* ---------------------------------------------------------- YAML */

/* A string YAML reads back as the same string without quotes: a plain
 * scalar of safe characters that is no number, boolean or null. */
static int plain(const char *s) {
  static const char *words[] = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"};
  if (*s == '\0') return 0;
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if (strcasecmp(s, words[i]) == 0) return 0;
  if (strchr("-.0123456789+", s[0])) return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_-./", *p)))
      return 0;
  return 1;
}

static int scalar(const json_t *v, cubit_buf *out) {
  if (json_is_string(v) && plain(json_string_value(v))) return buf_appends(out, json_string_value(v));
  /* JSON's text of a scalar is a YAML flow scalar of the same value. */
  char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
  int rc = text ? buf_appends(out, text) : -1;
  free(text);
  return rc;
}

static int empty_collection(const json_t *v) {
  return (json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0);
}

static int yaml_node(const json_t *v, int indent, cubit_buf *out);

/* A value after "key:" or "- ": a scalar or {} / [] on the same line,
 * else a block below. */
static int yaml_after(const json_t *v, int indent, int in_list, cubit_buf *out) {
  if (json_is_object(v) && json_object_size(v)) {
    if (in_list) return yaml_node(v, -indent, out); /* first key on the "- " line */
    return buf_appends(out, "\n") || yaml_node(v, indent, out);
  }
  if (json_is_array(v) && json_array_size(v)) {
    if (in_list) return buf_appends(out, "\n") || yaml_node(v, indent, out);
    return buf_appends(out, "\n") || yaml_node(v, indent - 2 < 0 ? 0 : indent - 2, out);
  }
  if (empty_collection(v)) return buf_appends(out, json_is_object(v) ? " {}\n" : " []\n");
  return buf_appends(out, " ") || scalar(v, out) || buf_appends(out, "\n");
}

/* indent < 0: the first line continues a "- " already written. */
static int yaml_node(const json_t *v, int indent, cubit_buf *out) {
  int first_inline = indent < 0;
  if (indent < 0) indent = -indent;
  if (json_is_object(v)) {
    const char *k;
    json_t *x;
    int first = 1;
    json_object_foreach((json_t *)v, k, x) {
      if (!(first && first_inline) && buf_appendf(out, "%*s", indent, "")) return -1;
      first = 0;
      json_t *key = json_string(k);
      int rc = scalar(key, out);
      json_decref(key);
      if (rc || buf_appends(out, ":") || yaml_after(x, indent + 2, 0, out)) return -1;
    }
    return 0;
  }
  if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
      if (buf_appendf(out, "%*s-", indent, "")) return -1;
      if (json_is_object(x) && json_object_size(x)) {
        if (buf_appends(out, " ") || yaml_node(x, -(indent + 2), out)) return -1;
      } else if (yaml_after(x, indent + 2, 1, out)) {
        return -1;
      }
    }
    return 0;
  }
  return scalar(v, out) || buf_appends(out, "\n");
}

int cli_write_data(const json_t *v, cli_output o, cubit_buf *out) {
  if (o == CLI_OUT_YAML) {
    if (empty_collection(v)) return buf_appends(out, json_is_object(v) ? "{}\n" : "[]\n") ? CUBIT_ENOMEM : 0;
    return yaml_node(v, 0, out) ? CUBIT_ENOMEM : 0;
  }
  char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
  int rc = text == NULL || buf_appends(out, text) || buf_appends(out, "\n");
  free(text);
  return rc ? CUBIT_ENOMEM : 0;
}
