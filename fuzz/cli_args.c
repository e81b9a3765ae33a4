/* kubectl-cubit's argument parsers (cmd/kubectl-cubit/args.c). Input: the
 * command line, one argument a line.
 *
 * Properties:
 *   - cli_parse accepts, or refuses with CLI_EXIT_USAGE and a message;
 *     what it accepts is within its ranges (attempt >= 0, replica >= -1,
 *     renew --for >= 0, a positive redraw interval);
 *   - each line is also tried as a duration and as a -p parameter: a
 *     duration is positive and reads back through cli_format_duration as
 *     the same number of seconds; a parameter's name is non-empty and
 *     "name=value" is the input again;
 *   - each line is tried as a time (--from/--to): one accepted is written
 *     as RFC 3339 and reads back as the same second;
 *   - an accepted usage or history line gives a history API path under
 *     /api/v1/ of printable characters without spaces (values are
 *     percent-encoded), --limit >= 1, --trial >= 0, --since >= 0, -o one of
 *     its values; an accepted completion line gives a script. */
#include "cli.h"
#include "fuzz.h"
#include "util/time.h"

#define MAX_ARGS 64

static void check_duration(const char *s) {
  int64_t d = 0;
  char err[256] = "";
  if (cli_parse_duration(s, &d, err, sizeof(err)) != 0) {
    FUZZ_ASSERT(err[0] != '\0', "duration \"%s\" refused without a message", s);
    return;
  }
  FUZZ_ASSERT(d > 0, "duration \"%s\" gave %lld", s, (long long)d);
  char text[64];
  cli_format_duration(d, text, sizeof(text));
  int64_t again = 0;
  FUZZ_ASSERT(cli_parse_duration(text, &again, err, sizeof(err)) == 0 && again == d,
              "duration \"%s\" = %lld s written \"%s\" reads back as %lld", s, (long long)d, text, (long long)again);
}

static void check_param(const char *s) {
  cli_param p = {0};
  char err[256] = "";
  if (cli_parse_param(s, &p, err, sizeof(err)) != 0) {
    FUZZ_ASSERT(err[0] != '\0', "parameter \"%s\" refused without a message", s);
    return;
  }
  FUZZ_ASSERT(p.name && p.name[0] && p.value, "parameter \"%s\" without a name or value", s);
  size_t n = strlen(p.name);
  FUZZ_ASSERT(strncmp(s, p.name, n) == 0 && s[n] == '=' && strcmp(s + n + 1, p.value) == 0,
              "parameter \"%s\" read as %s = %s", s, p.name, p.value);
  free(p.name);
  free(p.value);
}

static void check_when(const char *s) {
  int64_t t = 0, again = 0;
  char err[256] = "";
  const int64_t now = 1796083200; /* 2026-12-01T00:00:00Z */
  if (cli_parse_when(s, now, &t, err, sizeof(err)) != 0) {
    FUZZ_ASSERT(err[0] != '\0', "time \"%s\" refused without a message", s);
    return;
  }
  char text[32];
  time_format_rfc3339(t, text);
  FUZZ_ASSERT(cli_parse_when(text, now, &again, err, sizeof(err)) == 0 && again == t,
              "time \"%s\" = %lld written \"%s\" reads back as %lld (%s)", s, (long long)t, text, (long long)again, err);
}

static void check_path(const char *path) {
  FUZZ_ASSERT(strncmp(path, "/api/v1/", 8) == 0, "history path \"%s\"", path);
  for (const char *p = path; *p; p++)
    FUZZ_ASSERT(*p > ' ' && *p < 0x7f, "history path \"%s\" has byte 0x%02x", path, (unsigned char)*p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  char *argv[MAX_ARGS + 2];
  int argc = 0;
  argv[argc++] = "kubectl-cubit";
  for (char *line = text, *next; line && argc <= MAX_ARGS; line = next) {
    next = fuzz_split_line(line);
    argv[argc++] = line;
  }
  argv[argc] = NULL;
  for (int i = 1; i < argc; i++) {
    check_duration(argv[i]);
    check_param(argv[i]);
    check_when(argv[i]);
  }
  cli_args a;
  memset(&a, 0, sizeof(a));
  char err[512] = "";
  int rc = cli_parse(argc, argv, &a, err, sizeof(err));
  if (rc != 0) {
    FUZZ_ASSERT(rc == CLI_EXIT_USAGE && err[0] != '\0', "refused with %d and message \"%s\"", rc, err);
  } else {
    FUZZ_ASSERT(a.attempt >= 0 && a.replica >= -1 && a.for_s >= 0 && a.interval_ms > 0,
                "accepted out of range: attempt %d replica %d for %lld interval %lld", a.attempt, a.replica,
                (long long)a.for_s, (long long)a.interval_ms);
    FUZZ_ASSERT(a.limit >= 1 && a.trial >= 0 && a.since_s >= 0 && a.output >= CLI_OUT_TABLE && a.output <= CLI_OUT_CSV,
                "accepted out of range: limit %d trial %d since %lld output %d", a.limit, a.trial,
                (long long)a.since_s, (int)a.output);
    if (a.cmd == CLI_CMD_USAGE || a.cmd == CLI_CMD_HISTORY) {
      char *path = a.cmd == CLI_CMD_USAGE ? cli_usage_path(&a, 1796083200)
                                          : cli_history_path(&a, a.ns, "uid-1", a.limit, 1796083200);
      check_path(path);
      free(path);
    }
    if (a.cmd == CLI_CMD_COMPLETION) {
      cubit_buf script;
      buf_init(&script, 1 << 20);
      FUZZ_ASSERT(cli_completion(a.name, &script) == 0 && script.len > 0, "completion %s gave no script", a.name);
      buf_free(&script);
    }
  }
  cli_args_free(&a);
  free(text);
  return 0;
}
