/* The --help texts; docs/cli.md says the same at more length. */
#include <string.h>

#include "cli.h"

static const char overview[] =
    "kubectl-cubit: Cubit's runs, training jobs, notebooks and services from the command line.\n"
    "\n"
    "Usage: kubectl cubit COMMAND [ARGS] [FLAGS]\n"
    "\n"
    "Commands:\n"
    "  get NAME, tree NAME   a PipelineRun as a tree of tasks, a TrainingJob's roles and pods,\n"
    "                        an Experiment's trials\n"
    "  watch RUN             the run's tree redrawn until it ends; exit code = its outcome\n"
    "  submit PIPELINE       start a PipelineRun: -p name=value ..., --watch\n"
    "  logs NAME [TASK]      logs of a run's task, a TrainingJob, a Notebook, an InferenceService\n"
    "                        or an Experiment's trial (--trial N)\n"
    "  retry RUN             retry a Failed run's failed tasks (--from TASK: that task and those after it)\n"
    "  backfill PIPELINE     runs for the schedule's ticks in a past window (--from T --to T)\n"
    "  stop NAME, resume NAME  stop or resume a PipelineRun, a TrainingJob (suspend) or a Notebook\n"
    "  renew NOTEBOOK        renew a notebook's lease (--for D also sets its length)\n"
    "  open NOTEBOOK         print the notebook's URL, or forward a local port to it (--port N)\n"
    "  usage                 GPU- and CPU-hours from the run history (--project, --by, --from, --to)\n"
    "  history               runs from the run history (--kind, --project, --phase, --creator, --since)\n"
    "  completion bash|zsh   the shell completion script\n"
    "  help [COMMAND]        this text, or a command's\n"
    "\n"
    "NAME may say its kind: plr/NAME, tj/NAME, nb/NAME, isvc/NAME, exp/NAME; a bare name is looked up in\n"
    "that order among the kinds the command takes.\n"
    "\n"
    "Flags every command takes (as kubectl reads them):\n"
    "  --kubeconfig PATH     the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)\n"
    "  --context NAME        the kubeconfig context (default: its current-context)\n"
    "  -n, --namespace NS    the namespace (default: the context's, else \"default\")\n"
    "  --token TOKEN         this bearer token instead of the kubeconfig user's credentials\n"
    "  -h, --help            help\n"
    "\n"
    "Exit codes: 0 done (watch: the run Succeeded), 1 the run Failed, 2 bad arguments,\n"
    "3 no such object, 4 kubeconfig or API server error.\n";

typedef struct topic {
  const char *command;
  const char *text;
} topic;

static const topic topics[] = {
    {"get",
     "Usage: kubectl cubit get NAME [-o wide|json|yaml]   (also: tree NAME)\n"
     "\n"
     "A PipelineRun (plr/NAME) as a tree of its tasks: each task under its first dependency\n"
     "(more dependencies in brackets), with its phase, attempts, duration, TrainingJob and\n"
     "message, its outputs under it, and a line per earlier attempt of a task tried more than\n"
     "once. A TrainingJob (tj/NAME) as its roles (running, pending, succeeded, failed) with\n"
     "their pods (state, restarts, node, age). An Experiment (exp/NAME) as its trials: number,\n"
     "state, value, duration, TrainingJob and parameters, and the best trial.\n"
     "Read from the objects' status and Cubit's labels.\n"
     "-o wide adds start and finish times (pods: IP and start); -o json / -o yaml print the object.\n"},
    {"watch",
     "Usage: kubectl cubit watch RUN [--interval 2s]\n"
     "\n"
     "Redraws the run's tree every --interval until the run ends (on a terminal the screen\n"
     "is redrawn; otherwise a tree is written each time it changed). Exit code 0 when the run\n"
     "Succeeded, 1 when it Failed.\n"},
    {"submit",
     "Usage: kubectl cubit submit PIPELINE [-p name=value ...] [--watch] [--interval 2s]\n"
     "\n"
     "Creates a PipelineRun of PIPELINE named PIPELINE-<random> (generateName), labelled\n"
     "cubit.dev/pipeline, with the parameters given (-p, --param; each name once; the run's\n"
     "controller checks them against the pipeline's types). Prints pipelinerun/NAME created.\n"
     "--watch (-w) then watches it as `watch` does, with the same exit codes.\n"},
    {"logs",
     "Usage: kubectl cubit logs RUN [TASK] [-f] [--attempt N | --all-attempts] [--role R] [--replica I]\n"
     "       kubectl cubit logs TRAININGJOB [-f] [--role R] [--replica I]\n"
     "       kubectl cubit logs NOTEBOOK [-f]\n"
     "       kubectl cubit logs INFERENCESERVICE [-f] [--revision R]\n"
     "       kubectl cubit logs EXPERIMENT [--trial N] [-f] [--role R] [--replica I]\n"
     "\n"
     "Reads the logs of the pods found through Cubit's labels: a run's TrainingJobs\n"
     "(cubit.dev/pipelinerun, cubit.dev/task, cubit.dev/attempt; the newest attempt of\n"
     "each task unless --attempt or --all-attempts) and their pods (cubit.dev/trainingjob,\n"
     "cubit.dev/role), a Notebook's (cubit.dev/notebook), an InferenceService's\n"
     "(cubit.dev/inferenceservice, cubit.dev/revision). Each line is prefixed [POD] when more\n"
     "than one pod is read or when following. -f follows until the run or job ends, picking up\n"
     "new attempts, new pods and restarted containers.\n"},
    {"retry",
     "Usage: kubectl cubit retry RUN [--from TASK]\n"
     "\n"
     "Asks a Failed run to re-run its failed tasks and those omitted after them (a new value of\n"
     "the cubit.dev/retry annotation; each value is acted on once). A run that has not failed\n"
     "is refused with exit code 2. --from TASK re-runs TASK and every task downstream of it on a\n"
     "Failed or Succeeded run, keeping the results of the tasks upstream (cubit.dev/retry-from).\n"},
    {"backfill",
     "Usage: kubectl cubit backfill PIPELINE --from T --to T [--interval 2s]\n"
     "\n"
     "Creates a run for each tick of the pipeline's schedule in [--from, --to] (a past window;\n"
     "T is 2026-12-01T06:00:00Z, a date 2026-12-01, or a duration ago such as 7d), oldest first,\n"
     "named PIPELINE-<tick> as the scheduler names them, so a tick never runs twice: a run that\n"
     "exists is left alone. Waits for a slot while the pipeline's maxActiveRuns are active.\n"},
    {"stop",
     "Usage: kubectl cubit stop NAME\n"
     "\n"
     "A PipelineRun (plr/NAME): spec.stopped=true: its running tasks' TrainingJobs are stopped,\n"
     "no task starts, and the run becomes Stopped; a finished run is refused (exit code 2).\n"
     "A TrainingJob (tj/NAME): spec.suspend=true (its pods go; it becomes Suspended).\n"
     "A Notebook (nb/NAME): spec.stopped=true. A bare NAME is looked up in that order.\n"},
    {"resume",
     "Usage: kubectl cubit resume NAME\n"
     "\n"
     "Undoes stop: spec.stopped=false on a PipelineRun (each stopped task starts its next\n"
     "attempt; finished tasks are not run again), spec.suspend=false on a TrainingJob,\n"
     "spec.stopped=false on a Notebook.\n"},
    {"renew",
     "Usage: kubectl cubit renew NOTEBOOK [--for DURATION]\n"
     "\n"
     "Renews the notebook's lease from now (the cubit.dev/renew annotation). --for 8h also sets\n"
     "spec.lease.ttlSeconds to that length (units s, m, h, d; e.g. 1h30m). A notebook without\n"
     "spec.lease is refused with exit code 2.\n"},
    {"usage",
     "Usage: kubectl cubit usage [--project P] [--by day|week|month|member|gpu-model|project]\n"
     "                           [--from T] [--to T | --since D] [-o wide|json|yaml|csv] [--history-url URL]\n"
     "\n"
     "GPU-hours and CPU-hours measured from the pods' running intervals (the run history,\n"
     "docs/history.md), grouped by UTC day (default), ISO week, month, member, GPU model or\n"
     "project; the last 30 days unless --from/--to/--since say otherwise. Your own token reads\n"
     "the projects you are a member of (all of them for a cluster admin). The API is reached at\n"
     "--history-url or $CUBIT_HISTORY_URL (CA: $CUBIT_HISTORY_CA), else through the API\n"
     "server's service proxy to cubit-history in $CUBIT_HISTORY_NAMESPACE (cubit-system).\n"},
    {"history",
     "Usage: kubectl cubit history [--kind K] [--project P] [--phase PH] [--creator U]\n"
     "                             [--since D | --from T] [--to T] [--limit N] [-o wide|json|yaml]\n"
     "\n"
     "Runs from the run history, newest first, also those deleted since: kind, namespace/name,\n"
     "project, creator, phase, GPUs, creation time and duration (-o wide: GPU model, CPU,\n"
     "deletion time, uid). -n filters by namespace when given. The API is found as for usage.\n"},
    {"completion",
     "Usage: kubectl cubit completion bash|zsh\n"
     "\n"
     "Prints the completion script: source <(kubectl-cubit completion bash).\n"},
    {"open",
     "Usage: kubectl cubit open NOTEBOOK [--port N]\n"
     "\n"
     "Prints the notebook's URL (status.url) when it answers from here; exit code 4 while it\n"
     "has none. When it does not answer (no gateway or DNS name), or with --port, forwards\n"
     "127.0.0.1:N (--port 0 or none: a free port) to the notebook pod's port 8888 through the\n"
     "API server's pods/portforward, prints\n"
     "  Forwarding from 127.0.0.1:PORT -> POD:8888\n"
     "  http://127.0.0.1:PORT/notebook/NAMESPACE/NOTEBOOK/\n"
     "and serves until Ctrl-C (exit code 0). Each local connection is its own stream; a\n"
     "stream's failure (the pod refused the port, ...) is printed and the others go on.\n"
     "A notebook placed in a member cluster (status.cluster) has its URL printed when that\n"
     "cluster's gateway routes it (condition Routed) and it answers from here; otherwise it\n"
     "is refused with the cluster's name: the hub cannot forward a port to its pod.\n"
     "\n"
     "  --port N              the local port (0: any free one)\n"},
};

const char *cli_help(const char *command) {
  if (command == NULL) return overview;
  if (strcmp(command, "tree") == 0) command = "get";
  for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
    if (strcmp(topics[i].command, command) == 0) return topics[i].text;
  return overview;
}
