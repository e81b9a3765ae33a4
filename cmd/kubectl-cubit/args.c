/* The command line: kubectl's global flags (anywhere on the line, as kubectl
 * takes them), the commands and their flags. Pure: argv in, cli_args or a
 * message naming the flag out. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "util/alloc.h"
#include "util/time.h"

#define BIT(c) (1u << (c))
#define ALL_COMMANDS 0xffffffffu

typedef enum {
  F_KUBECONFIG, F_CONTEXT, F_NAMESPACE, F_HELP, F_FOLLOW, F_ATTEMPT, F_ALL_ATTEMPTS, F_ROLE,
  F_REPLICA, F_REVISION, F_WATCH, F_FOR, F_PARAM, F_INTERVAL, F_TOKEN, F_OUTPUT, F_PROJECT, F_BY, F_FROM, F_TO,
  F_SINCE, F_KIND, F_PHASE, F_CREATOR, F_LIMIT, F_HISTORY_URL, F_TRIAL, F_PORT
} flag_id;

typedef struct flag_spec {
  flag_id id;
  const char *name;  /* long name without "--" */
  char shorthand;    /* 0 = none */
  int takes_value;
  unsigned commands; /* BIT(cli_command) of the commands that accept it */
} flag_spec;

static const flag_spec flags[] = {
    {F_KUBECONFIG, "kubeconfig", 0, 1, ALL_COMMANDS},
    {F_CONTEXT, "context", 0, 1, ALL_COMMANDS},
    {F_NAMESPACE, "namespace", 'n', 1, ALL_COMMANDS},
    {F_HELP, "help", 'h', 0, ALL_COMMANDS},
    {F_FOLLOW, "follow", 'f', 0, BIT(CLI_CMD_LOGS)},
    {F_ATTEMPT, "attempt", 0, 1, BIT(CLI_CMD_LOGS)},
    {F_ALL_ATTEMPTS, "all-attempts", 0, 0, BIT(CLI_CMD_LOGS)},
    {F_ROLE, "role", 0, 1, BIT(CLI_CMD_LOGS)},
    {F_REPLICA, "replica", 0, 1, BIT(CLI_CMD_LOGS)},
    {F_REVISION, "revision", 0, 1, BIT(CLI_CMD_LOGS)},
    {F_WATCH, "watch", 'w', 0, BIT(CLI_CMD_SUBMIT)},
    {F_FOR, "for", 0, 1, BIT(CLI_CMD_RENEW)},
    {F_PARAM, "param", 'p', 1, BIT(CLI_CMD_SUBMIT)},
    {F_INTERVAL, "interval", 0, 1, BIT(CLI_CMD_WATCH) | BIT(CLI_CMD_SUBMIT) | BIT(CLI_CMD_BACKFILL)},
    {F_TOKEN, "token", 0, 1, ALL_COMMANDS},
    {F_OUTPUT, "output", 'o', 1, BIT(CLI_CMD_GET) | BIT(CLI_CMD_USAGE) | BIT(CLI_CMD_HISTORY)},
    {F_PROJECT, "project", 0, 1, BIT(CLI_CMD_USAGE) | BIT(CLI_CMD_HISTORY)},
    {F_BY, "by", 0, 1, BIT(CLI_CMD_USAGE)},
    {F_FROM, "from", 0, 1, BIT(CLI_CMD_USAGE) | BIT(CLI_CMD_HISTORY) | BIT(CLI_CMD_BACKFILL) | BIT(CLI_CMD_RETRY)},
    {F_TO, "to", 0, 1, BIT(CLI_CMD_USAGE) | BIT(CLI_CMD_HISTORY) | BIT(CLI_CMD_BACKFILL)},
    {F_SINCE, "since", 0, 1, BIT(CLI_CMD_USAGE) | BIT(CLI_CMD_HISTORY)},
    {F_KIND, "kind", 0, 1, BIT(CLI_CMD_HISTORY)},
    {F_PHASE, "phase", 0, 1, BIT(CLI_CMD_HISTORY)},
    {F_CREATOR, "creator", 0, 1, BIT(CLI_CMD_HISTORY)},
    {F_LIMIT, "limit", 0, 1, BIT(CLI_CMD_HISTORY)},
    {F_HISTORY_URL, "history-url", 0, 1, BIT(CLI_CMD_USAGE) | BIT(CLI_CMD_HISTORY)},
    {F_TRIAL, "trial", 0, 1, BIT(CLI_CMD_LOGS)},
    {F_PORT, "port", 0, 1, BIT(CLI_CMD_OPEN)},
};

typedef struct command_spec {
  cli_command cmd;
  const char *name;
  int min_pos, max_pos; /* positional arguments */
  const char *usage;    /* what the positionals are, for errors */
} command_spec;

static const command_spec commands[] = {
    {CLI_CMD_HELP, "help", 0, 1, "[COMMAND]"},
    {CLI_CMD_GET, "get", 1, 1, "NAME"},
    {CLI_CMD_GET, "tree", 1, 1, "NAME"},
    {CLI_CMD_WATCH, "watch", 1, 1, "RUN"},
    {CLI_CMD_SUBMIT, "submit", 1, 1, "PIPELINE"},
    {CLI_CMD_LOGS, "logs", 1, 2, "NAME [TASK]"},
    {CLI_CMD_RETRY, "retry", 1, 1, "RUN"},
    {CLI_CMD_STOP, "stop", 1, 1, "NAME"},
    {CLI_CMD_RESUME, "resume", 1, 1, "NAME"},
    {CLI_CMD_RENEW, "renew", 1, 1, "NOTEBOOK"},
    {CLI_CMD_OPEN, "open", 1, 1, "NOTEBOOK"},
    {CLI_CMD_USAGE, "usage", 0, 0, ""},
    {CLI_CMD_HISTORY, "history", 0, 0, ""},
    {CLI_CMD_BACKFILL, "backfill", 1, 1, "PIPELINE"},
    {CLI_CMD_COMPLETION, "completion", 1, 1, "bash|zsh"},
};

static const command_spec *command_named(const char *s) {
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(commands[i].name, s) == 0) return &commands[i];
  return NULL;
}

static const flag_spec *flag_long(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0) return &flags[i];
  return NULL;
}

static const flag_spec *flag_short(char c) {
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    if (flags[i].shorthand == c) return &flags[i];
  return NULL;
}

int cli_parse_duration(const char *s, int64_t *out, char *err, size_t errlen) {
  *out = 0;
  if (s == NULL || *s == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "empty duration (want e.g. 8h, 90m, 1h30m)");
  int64_t total = 0;
  const char *p = s;
  while (*p) {
    if (!isdigit((unsigned char)*p))
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: not a duration (want e.g. 8h, 90m, 1h30m)", s);
    int64_t n = 0;
    while (isdigit((unsigned char)*p)) {
      n = n * 10 + (*p - '0');
      if (n > 1000000000) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: too long", s);
      p++;
    }
    int64_t unit;
    switch (*p) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case '\0': return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: a number needs a unit (s, m, h or d)", s);
      default: return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: unknown unit '%c' (want s, m, h or d)", s, *p);
    }
    p++;
    total += n * unit;
    if (total > 366LL * 86400) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: longer than a year", s);
  }
  if (total <= 0) return cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: must be longer than 0s", s);
  *out = total;
  return 0;
}

int cli_parse_when(const char *s, int64_t now, int64_t *out, char *err, size_t errlen) {
  *out = 0;
  if (s == NULL || *s == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "empty time");
  /* Times before 1970 are refused: no run is that old, and the API's
   * answers and RFC 3339 as written here start there. */
  if (isdigit((unsigned char)s[0]) && strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
    char full[40];
    snprintf(full, sizeof(full), "%sT00:00:00Z", s);
    if (time_parse_rfc3339(full, out) == 0 && *out >= 0) return 0;
  } else if (strchr(s, 'T') || strchr(s, 't')) {
    if (time_parse_rfc3339(s, out) == 0 && *out >= 0) return 0;
  } else {
    int64_t ago;
    char why[160];
    if (cli_parse_duration(s, &ago, why, sizeof(why)) == 0) {
      *out = now - ago;
      return 0;
    }
  }
  *out = 0;
  return cubit_errorf(err, errlen, CUBIT_EINVAL,
                      "%s: not a time (want 2026-12-01T06:00:00Z, a date 2026-12-01, or a duration ago such as 7d)",
                      s);
}

void cli_format_duration(int64_t secs, char *out, size_t len) {
  if (len == 0) return;
  out[0] = '\0';
  if (secs < 0) return;
  int64_t h = secs / 3600, m = secs % 3600 / 60, s = secs % 60;
  if (h) snprintf(out, len, "%lldh%lldm%llds", (long long)h, (long long)m, (long long)s);
  else if (m) snprintf(out, len, "%lldm%llds", (long long)m, (long long)s);
  else snprintf(out, len, "%llds", (long long)s);
}

int cli_parse_param(const char *s, cli_param *out, char *err, size_t errlen) {
  out->name = out->value = NULL;
  const char *eq = strchr(s, '=');
  if (eq == NULL) return cubit_errorf(err, errlen, CUBIT_EINVAL, "-p %s: want name=value", s);
  if (eq == s) return cubit_errorf(err, errlen, CUBIT_EINVAL, "-p %s: the parameter name is empty", s);
  for (const char *c = s; c < eq; c++)
    if (!(isalnum((unsigned char)*c) || *c == '_') || (c == s && isdigit((unsigned char)*c)))
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "-p %s: a parameter name has letters, digits and '_' and does not start with a digit", s);
  out->name = xstrndup(s, (size_t)(eq - s));
  out->value = xstrdup(eq + 1);
  return 0;
}

static int parse_count(const char *flag, const char *v, int min, int *out, char *err, size_t errlen) {
  char *end;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || errno || n < min || n > 1000000)
    return cubit_errorf(err, errlen, CUBIT_EINVAL, "--%s: want an integer of at least %d, got \"%s\"", flag, min, v);
  *out = (int)n;
  return 0;
}

static int apply_flag(cli_args *a, const flag_spec *f, const char *v, char *err, size_t errlen) {
  int64_t d;
  switch (f->id) {
    case F_KUBECONFIG: a->kubeconfig = v; return 0;
    case F_CONTEXT: a->context = v; return 0;
    case F_NAMESPACE:
      if (*v == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "--namespace: empty");
      a->ns = v;
      return 0;
    case F_HELP: a->help_for = a->cmd_name ? a->cmd_name : ""; return 0;
    case F_FOLLOW: a->follow = 1; return 0;
    case F_ATTEMPT: return parse_count("attempt", v, 1, &a->attempt, err, errlen);
    case F_ALL_ATTEMPTS: a->all_attempts = 1; return 0;
    case F_ROLE: a->role = v; return 0;
    case F_REPLICA: return parse_count("replica", v, 0, &a->replica, err, errlen);
    case F_REVISION: a->revision = v; return 0;
    case F_WATCH: a->watch = 1; return 0;
    case F_FOR: {
      char why[160];
      if (cli_parse_duration(v, &d, why, sizeof(why))) return cubit_errorf(err, errlen, CUBIT_EINVAL, "--for: %s", why);
      a->for_s = d;
      return 0;
    }
    case F_INTERVAL: {
      char why[160];
      if (cli_parse_duration(v, &d, why, sizeof(why)))
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "--interval: %s", why);
      a->interval_ms = d * 1000;
      return 0;
    }
    case F_TOKEN:
      if (*v == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "--token: empty");
      a->token = v;
      return 0;
    case F_OUTPUT: {
      static const struct {
        const char *name;
        cli_output out;
      } outs[] = {{"json", CLI_OUT_JSON}, {"yaml", CLI_OUT_YAML}, {"wide", CLI_OUT_WIDE}, {"csv", CLI_OUT_CSV}};
      for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
        if (strcmp(v, outs[i].name) == 0 && (outs[i].out != CLI_OUT_CSV || a->cmd == CLI_CMD_USAGE)) {
          a->output = outs[i].out;
          return 0;
        }
      return cubit_errorf(err, errlen, CUBIT_EINVAL, "--output: want json, yaml or wide%s, got \"%s\"",
                          a->cmd == CLI_CMD_USAGE ? " or csv" : "", v);
    }
    case F_PROJECT:
      if (*v == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "--project: empty");
      a->project = v;
      return 0;
    case F_BY: {
      static const char *bys[] = {"day", "week", "month", "member", "gpu-model", "project"};
      for (size_t i = 0; i < sizeof(bys) / sizeof(bys[0]); i++)
        if (strcmp(v, bys[i]) == 0) {
          a->by = v;
          return 0;
        }
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "--by: want day, week, month, member, gpu-model or project, got \"%s\"", v);
    }
    case F_FROM:
    case F_TO: {
      const char *name = f->id == F_FROM ? "from" : "to";
      if (a->cmd == CLI_CMD_RETRY) {
        if (*v == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "--from: empty (want a task name)");
      } else {
        char why[200];
        if (cli_parse_when(v, 0, &d, why, sizeof(why))) return cubit_errorf(err, errlen, CUBIT_EINVAL, "--%s: %s", name, why);
      }
      if (f->id == F_FROM) a->from = v;
      else a->to = v;
      return 0;
    }
    case F_SINCE: {
      char why[160];
      if (cli_parse_duration(v, &d, why, sizeof(why))) return cubit_errorf(err, errlen, CUBIT_EINVAL, "--since: %s", why);
      a->since_s = d;
      return 0;
    }
    case F_KIND: {
      static const struct {
        const char *alias, *kind;
      } ks[] = {{"trainingjob", "TrainingJob"}, {"tj", "TrainingJob"}, {"pipelinerun", "PipelineRun"},
                {"plr", "PipelineRun"}, {"notebook", "Notebook"}, {"nb", "Notebook"},
                {"inferenceservice", "InferenceService"}, {"isvc", "InferenceService"}};
      for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        if (strcasecmp(v, ks[i].alias) == 0) {
          a->kind = ks[i].kind;
          return 0;
        }
      return cubit_errorf(err, errlen, CUBIT_EINVAL,
                          "--kind: want TrainingJob (tj), PipelineRun (plr), Notebook (nb) or InferenceService (isvc), "
                          "got \"%s\"", v);
    }
    case F_PHASE:
      if (*v == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "--phase: empty");
      a->phase = v;
      return 0;
    case F_CREATOR:
      if (*v == '\0') return cubit_errorf(err, errlen, CUBIT_EINVAL, "--creator: empty");
      a->creator = v;
      return 0;
    case F_LIMIT: return parse_count("limit", v, 1, &a->limit, err, errlen);
    case F_TRIAL: return parse_count("trial", v, 1, &a->trial, err, errlen);
    case F_PORT: {
      char *end;
      errno = 0;
      long n = strtol(v, &end, 10);
      if (*v == '\0' || *end != '\0' || errno || n < 0 || n > 65535)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "--port: want a local port from 0 (any free one) to 65535, got \"%s\"", v);
      a->port = (int)n;
      return 0;
    }
    case F_HISTORY_URL:
      if (strncasecmp(v, "https://", 8) != 0 && strncasecmp(v, "http://", 7) != 0)
        return cubit_errorf(err, errlen, CUBIT_EINVAL, "--history-url: want https://HOST[:PORT], got \"%s\"", v);
      a->history_url = v;
      return 0;
    case F_PARAM: {
      cli_param p;
      int rc = cli_parse_param(v, &p, err, errlen);
      if (rc) return rc;
      for (size_t i = 0; i < a->nparams; i++)
        if (strcmp(a->params[i].name, p.name) == 0) {
          rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "-p %s: parameter %s given twice", v, p.name);
          free(p.name);
          free(p.value);
          return rc;
        }
      a->params = xrealloc(a->params, (a->nparams + 1) * sizeof(*a->params));
      a->params[a->nparams++] = p;
      return 0;
    }
  }
  return cubit_errorf(err, errlen, CUBIT_EINVAL, "unhandled flag");
}

/* Flags are checked against the command once it is known, so a flag may
 * come before the command as kubectl allows for its global ones. */
typedef struct pending_flag {
  const flag_spec *f;
  const char *value;
  const char *as_typed;
} pending_flag;

int cli_parse(int argc, char **argv, cli_args *out, char *err, size_t errlen) {
  memset(out, 0, sizeof(*out));
  out->replica = -1;
  out->port = -1;
  out->interval_ms = 2000;
  out->limit = 100;
  pending_flag *seen = xcalloc((size_t)argc + 1, sizeof(*seen));
  const char **pos = xcalloc((size_t)argc + 1, sizeof(*pos));
  size_t nseen = 0, npos = 0;
  int rc = 0, only_positionals = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (only_positionals || arg[0] != '-' || arg[1] == '\0') {
      pos[npos++] = arg;
      continue;
    }
    if (strcmp(arg, "--") == 0) {
      only_positionals = 1;
      continue;
    }
    const flag_spec *f;
    const char *value = NULL;
    if (arg[1] == '-') {
      const char *name = arg + 2, *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      f = flag_long(name, len);
      if (f == NULL) {
        rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "unknown flag --%.*s", (int)len, name);
        goto out;
      }
      if (eq) value = eq + 1;
    } else {
      f = flag_short(arg[1]);
      if (f == NULL) {
        rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "unknown flag -%c", arg[1]);
        goto out;
      }
      if (arg[2] == '=') value = arg + 3;
      else if (arg[2] != '\0') {
        if (!f->takes_value) {
          rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "unknown flag %s (flags are not combined)", arg);
          goto out;
        }
        value = arg + 2;
      }
    }
    if (f->takes_value && value == NULL) {
      if (i + 1 >= argc) {
        rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "flag --%s needs a value", f->name);
        goto out;
      }
      value = argv[++i];
    } else if (!f->takes_value && value != NULL) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "flag --%s takes no value", f->name);
      goto out;
    }
    seen[nseen++] = (pending_flag){f, value, arg};
  }

  const command_spec *c = NULL;
  if (npos == 0) {
    out->cmd = CLI_CMD_HELP;
    out->help_for = "";
  } else if ((c = command_named(pos[0])) == NULL) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "unknown command \"%s\" (see kubectl cubit --help)", pos[0]);
    goto out;
  } else {
    out->cmd = c->cmd;
    out->cmd_name = c->name;
  }
  for (size_t i = 0; i < nseen; i++) {
    if (!(seen[i].f->commands & BIT(out->cmd))) {
      rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "flag --%s is not a flag of \"%s\" (see kubectl cubit %s --help)",
                        seen[i].f->name, out->cmd_name, out->cmd_name);
      goto out;
    }
    if ((rc = apply_flag(out, seen[i].f, seen[i].value, err, errlen))) goto out;
  }
  if (out->help_for) {
    if (out->cmd == CLI_CMD_HELP) out->help_for = "";
    out->cmd = CLI_CMD_HELP;
    goto out;
  }
  if (c == NULL) goto out;
  size_t nargs = npos - 1;
  if ((int)nargs < c->min_pos || (int)nargs > c->max_pos) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "%s: want %s, got %zu argument%s (usage: kubectl cubit %s %s)",
                      c->name, c->usage, nargs, nargs == 1 ? "" : "s", c->name, c->usage);
    goto out;
  }
  if (out->cmd == CLI_CMD_HELP) {
    out->help_for = nargs ? pos[1] : "";
    goto out;
  }
  out->name = nargs ? pos[1] : NULL;
  out->task = nargs > 1 ? pos[2] : NULL;
  if (out->attempt && out->all_attempts) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "--attempt and --all-attempts cannot be used together");
    goto out;
  }
  if (out->since_s && out->from) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "--since and --from cannot be used together");
    goto out;
  }
  if (out->cmd == CLI_CMD_BACKFILL && (out->from == NULL || out->to == NULL)) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "backfill: --from and --to are required (the window of ticks to run)");
    goto out;
  }
  if (out->cmd == CLI_CMD_COMPLETION && strcmp(out->name, "bash") != 0 && strcmp(out->name, "zsh") != 0) {
    rc = cubit_errorf(err, errlen, CUBIT_EINVAL, "completion: want bash or zsh, got \"%s\"", out->name);
    goto out;
  }
out:
  free(seen);
  free(pos);
  if (rc) {
    cli_args_free(out);
    return CLI_EXIT_USAGE;
  }
  return 0;
}

void cli_args_free(cli_args *a) {
  for (size_t i = 0; i < a->nparams; i++) {
    free(a->params[i].name);
    free(a->params[i].value);
  }
  free(a->params);
  a->params = NULL;
  a->nparams = 0;
}

/* ---------------------------------------------------------- completion */

/* Words of the flags a command takes ("--follow -f --attempt ..."). */
static int flag_words(cli_command cmd, cubit_buf *out) {
  for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
    if (!(flags[i].commands & BIT(cmd))) continue;
    if (buf_appendf(out, " --%s", flags[i].name)) return CUBIT_ENOMEM;
    if (flags[i].shorthand && buf_appendf(out, " -%c", flags[i].shorthand)) return CUBIT_ENOMEM;
  }
  return 0;
}

/* The kinds whose object names complete a command's NAME argument. */
static const char *name_kinds(cli_command cmd) {
  switch (cmd) {
    case CLI_CMD_GET: return "pipelineruns,trainingjobs,experiments";
    case CLI_CMD_WATCH:
    case CLI_CMD_RETRY: return "pipelineruns";
    case CLI_CMD_LOGS: return "pipelineruns,trainingjobs,notebooks,inferenceservices,experiments";
    case CLI_CMD_STOP:
    case CLI_CMD_RESUME: return "pipelineruns,trainingjobs,notebooks";
    case CLI_CMD_RENEW:
    case CLI_CMD_OPEN: return "notebooks";
    case CLI_CMD_SUBMIT:
    case CLI_CMD_BACKFILL: return "pipelines";
    default: return NULL;
  }
}

/* One script for bash and zsh (zsh through bashcompinit): commands, each
 * command's flags from the table above, values of -o, --by and --kind, and
 * object names from `kubectl get KINDS -o name` in the namespace given. */
int cli_completion(const char *shell, cubit_buf *out) {
  int rc = 0;
  if (strcmp(shell, "zsh") == 0)
    rc = buf_appends(out, "#compdef kubectl-cubit\nautoload -U +X bashcompinit && bashcompinit\n");
  rc = rc || buf_appends(out, "# kubectl-cubit completion (source it, or put it where your shell loads completions)\n"
                              "_kubectl_cubit() {\n"
                              "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd='' ns='' i\n"
                              "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
                              "    case ${COMP_WORDS[i]} in\n"
                              "      -n|--namespace) ns=${COMP_WORDS[i+1]}; ((i++));;\n"
                              "      --namespace=*) ns=${COMP_WORDS[i]#*=};;\n"
                              "      -*) ;;\n"
                              "      *) [[ -z $cmd ]] && cmd=${COMP_WORDS[i]};;\n"
                              "    esac\n"
                              "  done\n"
                              "  case $prev in\n"
                              "    -o|--output) COMPREPLY=($(compgen -W 'json yaml wide csv' -- \"$cur\")); return;;\n"
                              "    --by) COMPREPLY=($(compgen -W 'day week month member gpu-model project' -- \"$cur\")); return;;\n"
                              "    --kind) COMPREPLY=($(compgen -W 'TrainingJob PipelineRun Notebook InferenceService' -- \"$cur\")); return;;\n"
                              "  esac\n"
                              "  local words kinds=''\n"
                              "  case $cmd in\n"
                              "    '') COMPREPLY=($(compgen -W '");
  for (size_t i = 0; rc == 0 && i < sizeof(commands) / sizeof(commands[0]); i++)
    rc = buf_appendf(out, "%s%s", i ? " " : "", commands[i].name);
  rc = rc || buf_appends(out, "' -- \"$cur\")); return;;\n");
  for (size_t i = 0; rc == 0 && i < sizeof(commands) / sizeof(commands[0]); i++) {
    const char *kinds = name_kinds(commands[i].cmd);
    rc = buf_appendf(out, "    %s) words='", commands[i].name) || flag_words(commands[i].cmd, out) ||
         buf_appendf(out, "'; kinds='%s';;\n", kinds ? kinds : "");
  }
  rc = rc || buf_appends(out, "  esac\n"
                              "  if [[ $cur == -* || -z $kinds ]]; then\n"
                              "    [[ $cmd == completion ]] && words='bash zsh'\n"
                              "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                              "  else\n"
                              "    # One kind at a time: a kind whose CRD is not installed answers nothing.\n"
                              "    words=''\n"
                              "    for k in ${kinds//,/ }; do words+=\" $(kubectl get \"$k\" ${ns:+-n \"$ns\"} -o name 2>/dev/null | sed 's|.*/||')\"; done\n"
                              "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                              "  fi\n"
                              "}\n"
                              "complete -F _kubectl_cubit kubectl-cubit\n");
  return rc ? CUBIT_ENOMEM : 0;
}
