#!/usr/bin/env bash
# Every manager setting through the chart (issue 14), with the real helm and the
# real manager's parsers (cubit-manager --check-config), no cluster:
#   a. test/install/values-nondefault.yaml sets every value of the config sections
#      (gpu, gang, notebook, inference, pipeline, tenancy, history) to something
#      other than its default; the rendered ConfigMap carries each one, and the
#      Deployments' flags carry the flag settings.
#   b. the manager parses the rendered ConfigMap with the Deployments' own
#      arguments and reports each setting in effect; the chart's defaults are the
#      manager's own (the same settings as an empty --config).
#   c. each row of BAD: helm template refuses the values with the schema's (or the
#      config template's) message naming the value, and the manager refuses the
#      same setting; each row of GOOD (edges): both accept.
#   d. the checksum annotation is the rendered config's: one changed setting
#      changes it, a value outside the config does not.
#   e. the chart's README is what scripts/chart-readme.py generates, and the
#      generator refuses a value without a description.
# Usage: chart-settings.sh PATH-TO-cubit-manager
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
manager=${1:?usage: chart-settings.sh PATH-TO-cubit-manager}
helm=${HELM:-}
if [[ -z $helm ]]; then
  bin=$("$repo/kind/local/build.sh" --print 2>/dev/null) && [[ -x $bin/helm ]] && helm=$bin/helm
fi
[[ -n $helm ]] || { echo "no helm (set HELM or build kind/local): skipped"; exit 77; }
chart=$repo/charts/cubit
nondefault=$repo/test/install/values-nondefault.yaml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
check() { # DESCRIPTION COMMAND...
  local what=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$what"; else nok "$what"; printf '%s\n' "$out" | tail -n 20 | sed 's/^/      /'; fi
}

# render NAME HELM-ARGS...: $work/NAME.yaml (the objects), NAME.config.yaml (the
# ConfigMap's config.yaml), NAME.args and NAME.history-args (the containers' args).
render() {
  local name=$1
  shift
  "$helm" template cubit "$chart" -n cubit-alt "$@" >"$work/$name.yaml" || return 1
  python3 - "$work/$name" <<'EOF'
import sys, yaml
base = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(base + ".yaml")) if d]
for d in docs:
    name = d["metadata"]["name"]
    if d["kind"] == "ConfigMap" and name == "cubit-manager-config":
        open(base + ".config.yaml", "w").write(d["data"]["config.yaml"])
    if d["kind"] == "Deployment":
        out = base + (".args" if name == "cubit-manager" else ".history-args")
        open(out, "w").write("\n".join(d["spec"]["template"]["spec"]["containers"][0]["args"]) + "\n")
EOF
}
# effective NAME [ARGS-FILE]: the manager's --check-config of NAME's config with
# the args of ARGS-FILE (default NAME.args), --config pointed at the file.
effective() {
  local name=$1 argsfile=${2:-$work/$1.args} args=()
  mapfile -t args < <(sed "s|^--config=.*|--config=$work/$name.config.yaml|" "$argsfile")
  "$manager" --check-config "${args[@]}"
}

# ---------------------------------------------------------------- a. every setting
echo "== a. every setting reaches the ConfigMap and the flags"
check "helm template with values-nondefault.yaml" render nondefault -f "$nondefault"
check "the ConfigMap carries every config setting of values-nondefault.yaml, each unlike its default" \
  python3 - "$chart/values.yaml" "$nondefault" "$work/nondefault.config.yaml" "$chart/values.schema.json" <<'EOF'
import json, sys, yaml
defaults, given, config = (yaml.safe_load(open(p)) for p in sys.argv[1:4])
schema = json.load(open(sys.argv[4]))
bad = []
def leaves(schema_node, value, path):
    """Every schema property under a config section must be set, and differ from the default."""
    props = schema_node.get("properties")
    if schema_node.get("type") == "object" and props:
        for k, sub in props.items():
            if not isinstance(value, dict) or k not in value:
                bad.append(f"{path}.{k}: not set in values-nondefault.yaml")
            else:
                leaves(sub, value[k], f"{path}.{k}")
        return
    d = defaults
    for k in path.split("."):
        d = d.get(k) if isinstance(d, dict) else None
    if d == value:
        bad.append(f"{path}: the default {d!r}")
for section in ("gpu", "gang", "notebook", "inference", "pipeline", "tenancy"):
    leaves(schema["properties"][section], given.get(section), section)
    if config.get(section) != given[section]:
        bad.append(f"{section}: ConfigMap {config.get(section)!r} != values {given[section]!r}")
want_history = {k: given["history"][k] for k in ("finalizerTimeoutSeconds", "retentionDays", "maxRuns")}
if config.get("history") != want_history:
    bad.append(f"history: ConfigMap {config.get('history')!r} != {want_history!r}")
extra = set(config) - {"gpu", "gang", "notebook", "inference", "pipeline", "tenancy", "history"}
if extra:
    bad.append(f"unexpected sections {sorted(extra)}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
check "helm template with values-nondefault.yaml and self-issued certificates" \
  render nondefault-self -f "$nondefault" --set webhook.certs.mode=self
for flag in --leader-elect=false --leader-election-id=cubit-alt-leader --v=4 --kube-api-qps=20 --kube-api-burst=40 \
  --webhook-cert-validity=7776000 --webhook-cert-check=30 --metrics-bind-address=0.0.0.0:9080 \
  --health-probe-bind-address=0.0.0.0:9081 --webhook-bind-address=0.0.0.0:10443 --metrics-cert-dir=/run/cubit/webhook-certs; do
  check "the manager's Deployment passes $flag" grep -qxF -- "$flag" "$work/nondefault-self.args"
done
check "the history's Deployment passes --v=4 and the same --config" \
  bash -c "grep -qxF -- --v=4 $work/nondefault.history-args && grep -qxF -- --config=/etc/cubit/config.yaml $work/nondefault.history-args"

# ---------------------------------------------------------------- b. the manager's parsers
echo "== b. the manager parses what the chart renders"
check "cubit-manager --check-config accepts the nondefault ConfigMap with the Deployment's args" \
  bash -c "$(declare -f effective); work=$work manager=$manager effective nondefault-self >$work/nondefault.effective"
check "... and with the history Deployment's args" \
  bash -c "$(declare -f effective); work=$work manager=$manager effective nondefault $work/nondefault.history-args >/dev/null"
check "the manager reads every setting as the chart wrote it" \
  python3 - "$work/nondefault.config.yaml" "$work/nondefault.effective" <<'EOF'
import json, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
eff = json.load(open(sys.argv[2]))
bad = []
for section in ("gang", "notebook", "inference", "pipeline", "history"):
    if eff[section] != config[section]:
        bad.append(f"{section}: manager {eff[section]!r} != ConfigMap {config[section]!r}")
g, want = eff["gpu"], config["gpu"]
binary = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
for k in ("system", "modelLabel", "defaultModel"):
    if g[k] != want[k]:
        bad.append(f"gpu.{k}: manager {g[k]!r} != {want[k]!r}")
if g["hami"]["memoryMode"] != want["hami"]["memoryMode"]:
    bad.append("gpu.hami.memoryMode")
if sorted(g["models"]) != sorted(want["models"]):
    bad.append(f"gpu.models: manager {sorted(g['models'])} != {sorted(want['models'])}")
for name, m in want["models"].items():
    mem = m["memory"]
    mem = int(mem[:-2]) * binary[mem[-2:]] if isinstance(mem, str) else mem
    if g["models"][name] != {"memory": mem, "labelValue": m.get("labelValue", name)}:
        bad.append(f"gpu.models.{name}: manager {g['models'][name]!r}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
check "helm template with the default values" render default
printf '{}\n' >"$work/empty.config.yaml"
printf 'gpu: {system: nvidia}\n' >"$work/nvidia.config.yaml"
check "the chart's defaults are the manager's: the default ConfigMap reads as an empty config (gpu: as system nvidia)" \
  bash -c "$(declare -f effective); export work=$work manager=$manager
    effective default >$work/default.effective &&
    effective empty $work/default.args >$work/empty.effective && effective nvidia $work/default.args >$work/nvidia.effective &&
    jq -e --slurpfile e $work/empty.effective --slurpfile n $work/nvidia.effective \
      '(del(.gpu) == (\$e[0] | del(.gpu))) and (.gpu == \$n[0].gpu)' $work/default.effective"

# ---------------------------------------------------------------- c. refused by both
echo "== c. what the manager refuses, helm refuses first"
# Rows: NAME | values (YAML, flow style) | what helm's message must say | the manager's
# input: "config:<YAML>" (a --config file) or "flags:<flags>" | what its message must say.
BAD=$(cat <<'EOF'
gpu memory 80GB|gpu: {models: {A100: {memory: 80GB}}}|at '/gpu/models/A100/memory'|config:gpu: {system: nvidia, models: {A100: {memory: 80GB}}}|models.A100.memory: "80GB"
gpu memory 0|gpu: {models: {A100: {memory: 0}}}|at '/gpu/models/A100/memory'|config:gpu: {system: nvidia, models: {A100: {memory: 0}}}|models.A100.memory: must be positive
gpu memory -1Gi|gpu: {models: {A100: {memory: -1Gi}}}|at '/gpu/models/A100/memory'|config:gpu: {system: nvidia, models: {A100: {memory: -1Gi}}}|models.A100.memory: must be positive
gpu memory 0Gi|gpu: {models: {A100: {memory: 0Gi}}}|at '/gpu/models/A100/memory'|config:gpu: {system: nvidia, models: {A100: {memory: 0Gi}}}|models.A100.memory: must be positive
gpu memory a list|gpu: {models: {A100: {memory: [80Gi]}}}|at '/gpu/models/A100/memory'|config:gpu: {system: nvidia, models: {A100: {memory: [80Gi]}}}|models.A100.memory: must be a quantity
gpu unknown system|gpu: {system: amd}|at '/gpu/system'|config:gpu: {system: amd}|system: "amd" is not one of
gpu unknown field|gpu: {vendor: nvidia}|at '/gpu'|config:gpu: {system: nvidia, vendor: nvidia}|gpu: vendor: unknown field
gpu model unknown field|gpu: {models: {A100: {memory: 80Gi, cores: 100}}}|at '/gpu/models/A100'|config:gpu: {system: nvidia, models: {A100: {memory: 80Gi, cores: 100}}}|gpu: models.A100.cores: unknown field
gpu modelLabel upper-case prefix|gpu: {modelLabel: Nvidia.com/gpu.product}|at '/gpu/modelLabel'|config:gpu: {system: nvidia, modelLabel: Nvidia.com/gpu.product}|modelLabel: must be a label key
gpu modelLabel empty|gpu: {modelLabel: ""}|at '/gpu/modelLabel'|config:gpu: {system: nvidia, modelLabel: ""}|modelLabel: must be a label key
gpu model name with a space|gpu: {models: {"A 100": {memory: 80Gi}}}|invalid propertyName 'A 100'|config:gpu: {system: nvidia, models: {"A 100": {memory: 80Gi}}}|is not a valid model name
gpu labelValue with a space|gpu: {models: {T4: {labelValue: Tesla T4}}}|at '/gpu/models/T4/labelValue'|config:gpu: {system: nvidia, models: {T4: {labelValue: Tesla T4}}}|models.T4.labelValue: must be a label value
gpu defaultModel not a model|gpu: {defaultModel: H100, models: {A100: {memory: 80Gi}}}|gpu: defaultModel: "H100" is not in models (known: A100)|config:gpu: {system: nvidia, defaultModel: H100, models: {A100: {memory: 80Gi}}}|defaultModel: "H100" is not in models (known: A100)
gpu models differing in case|gpu: {models: {A100: {memory: 80Gi}, a100: {memory: 40Gi}}}|differ only in case|config:gpu: {system: nvidia, models: {A100: {memory: 80Gi}, a100: {memory: 40Gi}}}|differ only in case
gpu hami memoryMode auto|gpu: {hami: {memoryMode: auto}}|at '/gpu/hami/memoryMode'|config:gpu: {system: nvidia, hami: {memoryMode: auto}}|hami.memoryMode: must be
gang unknown scheduler|gang: {scheduler: yunikorn}|at '/gang/scheduler'|config:gang: {scheduler: yunikorn}|gang.scheduler: want volcano
gang unknown field|gang: {queue: ml}|at '/gang'|config:gang: {queue: ml}|gang.queue: unknown setting
gang kueueQueue of 64 characters|gang: {kueueQueue: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}|at '/gang/kueueQueue'|config:gang: {kueueQueue: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}|gang.kueueQueue: longer than 63
notebook unknown field|notebook: {cullPeriodSeconds: 5}|at '/notebook'|config:notebook: {cullPeriodSeconds: 5}|notebook.cullPeriodSeconds: unknown setting
notebook istio not a boolean|notebook: {istio: "yes"}|at '/notebook/istio'|config:notebook: {istio: "yes"}|notebook.istio: want true or false
notebook probe period 0|notebook: {probePeriodSeconds: 0}|at '/notebook/probePeriodSeconds'|config:notebook: {probePeriodSeconds: 0}|notebook.probePeriodSeconds: want an integer from 1 to 86400
notebook probe period a day and a second|notebook: {probePeriodSeconds: 86401}|at '/notebook/probePeriodSeconds'|config:notebook: {probePeriodSeconds: 86401}|notebook.probePeriodSeconds: want an integer from 1 to 86400
notebook probe timeout 61|notebook: {probeTimeoutSeconds: 61}|at '/notebook/probeTimeoutSeconds'|config:notebook: {probeTimeoutSeconds: 61}|notebook.probeTimeoutSeconds: want an integer from 1 to 60
notebook unknown IDE image|notebook: {images: {julia: julia:1}}|at '/notebook/images'|config:notebook: {images: {julia: "julia:1"}}|notebook.images.julia
notebook empty image|notebook: {images: {jupyter: ""}}|at '/notebook/images/jupyter'|config:notebook: {images: {jupyter: ""}}|notebook.images.jupyter
notebook annotation not a string|notebook: {ingressAnnotations: {a: 1}}|at '/notebook/ingressAnnotations/a'|config:notebook: {ingressAnnotations: {a: 1}}|notebook.ingressAnnotations.a: want a string
inference unknown field|inference: {storageInitializer: x}|at '/inference'|config:inference: {storageInitializer: x}|inference.storageInitializer: unknown setting
inference upper-case clusterDomain|inference: {clusterDomain: Cluster.Local}|at '/inference/clusterDomain'|config:inference: {clusterDomain: Cluster.Local}|inference.clusterDomain: want a DNS name
inference image with a space|inference: {storageInitializerImage: "kserve/init v1"}|at '/inference/storageInitializerImage'|config:inference: {storageInitializerImage: "kserve/init v1"}|inference.storageInitializerImage
pipeline empty image|pipeline: {outputReaderImage: ""}|at '/pipeline/outputReaderImage'|config:pipeline: {outputReaderImage: ""}|pipeline.outputReaderImage
pipeline unknown field|pipeline: {readerImage: x}|at '/pipeline'|config:pipeline: {readerImage: x}|pipeline.readerImage: unknown setting
history finalizer timeout 0|history: {enabled: true, finalizerTimeoutSeconds: 0}|at '/history/finalizerTimeoutSeconds'|config:history: {finalizerTimeoutSeconds: 0}|history.finalizerTimeoutSeconds: want an integer from 1 to 604800
history finalizer timeout above a week|history: {enabled: true, finalizerTimeoutSeconds: 604801}|at '/history/finalizerTimeoutSeconds'|config:history: {finalizerTimeoutSeconds: 604801}|history.finalizerTimeoutSeconds: want an integer from 1 to 604800
history retention beyond a century|history: {enabled: true, retentionDays: 36501}|at '/history/retentionDays'|config:history: {retentionDays: 36501}|history.retentionDays
history negative maxRuns|history: {enabled: true, maxRuns: -1}|at '/history/maxRuns'|config:history: {maxRuns: -1}|history.maxRuns
tenancy unknown kind|tenancy: {controllers: {Deployment: [u]}}|at '/tenancy/controllers'|config:tenancy: {controllers: {Deployment: [u]}}|tenancy.controllers.Deployment: unknown workload kind
tenancy empty username|tenancy: {propagators: [""]}|at '/tenancy/propagators/0'|config:tenancy: {propagators: [""]}|tenancy.propagators[0]: want a non-empty username
tenancy unknown field|tenancy: {admins: [u]}|at '/tenancy'|config:tenancy: {admins: [u]}|tenancy.admins: unknown field
tenancy 33 usernames|tenancy: {propagators: [u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17, u18]}|tenancy.propagators: at most 32 usernames|config:tenancy: {propagators: [u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17, u18]}|at most 32 usernames
log verbosity 11|logVerbosity: 11|at '/logVerbosity'|flags:--v=11|-v: want a level from 0 to 10
kube API burst 0|kubeAPI: {burst: 0}|at '/kubeAPI/burst'|flags:--kube-api-burst=0|--kube-api-burst: not a positive integer
kube API qps -1|kubeAPI: {qps: -1}|at '/kubeAPI/qps'|flags:--kube-api-qps=-1|--kube-api-qps: not a non-negative number
certificate validity 59 s|webhook: {certs: {validitySeconds: 59}}|at '/webhook/certs/validitySeconds'|flags:--webhook-cert-validity=59|--webhook-cert-validity: want seconds (at least 60)
certificate check 0 s|webhook: {certs: {checkSeconds: 0}}|at '/webhook/certs/checkSeconds'|flags:--webhook-cert-check=0|--webhook-cert-check: want seconds (at least 1)
EOF
)
# manager_says INPUT WANT: the manager refuses INPUT with a message containing WANT.
manager_says() {
  local input=$1 want=$2 out flags=()
  if [[ $input == config:* ]]; then
    printf '%s\n' "${input#config:}" >"$work/row.config.yaml"
    flags=(--config="$work/row.config.yaml")
  else
    printf '{}\n' >"$work/row.config.yaml"
    read -r -a flags <<<"${input#flags:}"
    flags+=(--config="$work/row.config.yaml")
  fi
  if out=$("$manager" --check-config --leader-election-namespace=cubit-alt "${flags[@]}" 2>&1); then
    echo "the manager accepted it: $out"
    return 1
  fi
  grep -qF -- "$want" <<<"$out" || { echo "the manager said: $out"; return 1; }
}
# helm_says VALUES WANT: helm template refuses VALUES, its message containing WANT.
helm_says() {
  local out
  printf '%s\n' "$1" >"$work/row.values.yaml"
  if out=$("$helm" template cubit "$chart" -n cubit-alt -f "$work/row.values.yaml" 2>&1); then
    echo "helm rendered it"
    return 1
  fi
  grep -qF -- "$2" <<<"$out" || { echo "helm said: $out"; return 1; }
}
while IFS='|' read -r name values helm_want input manager_want; do
  [[ -n $name ]] || continue
  check "refused: $name: by helm template ($helm_want)" helm_says "$values" "$helm_want"
  check "refused: $name: by the manager ($manager_want)" manager_says "$input" "$manager_want"
done <<<"$BAD"
check "helm template's message for the A100 case is the schema's" bash -c \
  "$helm template cubit $chart --set gpu.models.A100.memory=80GB 2>&1 | grep -q \"values don't meet the specifications of the schema\""
# Edges both accept: the chart renders them and the manager parses the result.
GOOD=$(cat <<'EOF'
memory with a fraction|gpu: {models: {A100: {memory: 1.5Gi}}}
memory with a plus sign|gpu: {models: {A100: {memory: +80Gi}}}
memory as an exponent|gpu: {models: {A100: {memory: 8e10}}}
memory as decimal SI|gpu: {models: {A100: {memory: 80G}}}
memory in bytes|gpu: {models: {A100: {memory: 85899345920}}}
memory of a thousandth of a byte|gpu: {models: {A100: {memory: 1m}}}
defaultModel in another case|gpu: {defaultModel: a100, models: {A100: {memory: 80Gi}}}
a model name of 63 characters|gpu: {models: {aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: {memory: 1Gi}}}
a modelLabel without prefix|gpu: {modelLabel: gpu-model}
every GPU system|gpu: {system: vcuda}
kueueQueue of 63 characters|gang: {scheduler: kueue, kueueQueue: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
probe period of a day|notebook: {probePeriodSeconds: 86400, probeTimeoutSeconds: 60}
finalizer timeout of a week|history: {enabled: true, finalizerTimeoutSeconds: 604800}
32 usernames with the built-in ones|tenancy: {propagators: [u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17]}
a built-in username again|tenancy: {controllers: {Job: [system:kube-controller-manager]}, propagators: [u1, u2, u3, u4, u5, u6, u7, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17]}
EOF
)
both_accept() {
  printf '%s\n' "$1" >"$work/row.values.yaml"
  render row -f "$work/row.values.yaml" || return 1
  effective row >/dev/null
}
while IFS='|' read -r name values; do
  [[ -n $name ]] || continue
  check "accepted: $name: by helm template and the manager" both_accept "$values"
done <<<"$GOOD"

# ---------------------------------------------------------------- d. the checksum
echo "== d. a changed setting rolls the pods"
checksum() { yq -r "select(.kind == \"Deployment\" and .metadata.name == \"$2\") | .spec.template.metadata.annotations[\"checksum/config\"]" "$work/$1.yaml"; }
render host --set notebook.host=other.example.com >/dev/null
render labels --set podLabels.team=ml --set tenancyAdmins.users={bob} >/dev/null
render history-on --set history.enabled=true >/dev/null
render history-timeout --set history.enabled=true --set history.finalizerTimeoutSeconds=600 >/dev/null
check "the checksum is the SHA-256 of the rendered config.yaml" bash -c \
  "test \"\$(printf '%s' \"\$(cat $work/default.config.yaml)\" | sha256sum | cut -d' ' -f1)\" = $(checksum default cubit-manager)"
check "notebook.host changes the checksum" test "$(checksum default cubit-manager)" != "$(checksum host cubit-manager)"
check "values outside the config (podLabels, tenancyAdmins) keep it" test "$(checksum default cubit-manager)" = "$(checksum labels cubit-manager)"
check "history.finalizerTimeoutSeconds changes both Deployments' checksums" bash -c \
  "test $(checksum history-on cubit-manager) != $(checksum history-timeout cubit-manager) &&
   test $(checksum history-on cubit-history) != $(checksum history-timeout cubit-history) &&
   test $(checksum history-timeout cubit-history) = $(checksum history-timeout cubit-manager)"

# ---------------------------------------------------------------- e. the README
echo "== e. the chart's README"
check "charts/cubit/README.md is what scripts/chart-readme.py generates" "$repo/scripts/chart-readme.py" --check
cp -r "$chart" "$work/chart"
jq '.properties.pipeline.properties.outputReaderImage.description = "Changed."' "$chart/values.schema.json" >"$work/chart/values.schema.json"
check "a changed description makes the README stale" bash -c "! $repo/scripts/chart-readme.py --check --chart $work/chart >/dev/null 2>&1"
jq 'del(.properties.pipeline.properties.outputReaderImage.description)' "$chart/values.schema.json" >"$work/chart/values.schema.json"
check "a value without a description is refused" bash -c \
  "$repo/scripts/chart-readme.py --chart $work/chart 2>&1 | grep -q 'pipeline.outputReaderImage has no description'"
cp "$chart/values.schema.json" "$work/chart/values.schema.json"
printf 'pipeline:\n  outputReaderImages: x\n' >>"$work/chart/values.yaml"
check "a value the schema does not describe is refused" bash -c \
  "$repo/scripts/chart-readme.py --chart $work/chart 2>&1 | grep -q 'is not in values.schema.json'"

echo "$passed passed, $failed failed"
((failed == 0))
