/* The manager's settings for pipelines (the "pipeline" section of its
 * --config file, docs/pipeline.md). */
#include <stdio.h>
#include <string.h>

#include "controllers/pipeline/pipeline.h"
#include "util/json.h"

int pl_config_parse(const json_t *section, pl_config *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  snprintf(out->output_reader_image, sizeof(out->output_reader_image), "%s", PL_DEFAULT_READER_IMAGE);
  if (section == NULL || json_is_null(section)) return 0;
  if (!json_is_object(section)) return cubit_errorf(err, errlen, CUBIT_EINVAL, "pipeline: want a mapping");
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)section, key, v) {
    if (strcmp(key, "outputReaderImage") != 0)
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "pipeline.%.64s: unknown setting (want outputReaderImage)", key);
    const char *s = json_string_value(v);
    if (s == NULL || *s == '\0' || strlen(s) >= sizeof(out->output_reader_image) || strpbrk(s, " \t\r\n"))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "pipeline.outputReaderImage: want an image reference of at most %zu characters",
                          sizeof(out->output_reader_image) - 1);
    snprintf(out->output_reader_image, sizeof(out->output_reader_image), "%s", s);
  }
  return 0;
}
