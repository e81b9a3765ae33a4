#!/usr/bin/env bash
# Every sample of config/samples is accepted, and every row of the bad-object
# tables in test/install/bad-objects/*.yaml is refused by the API server (schema,
# CEL rule or one of Cubit's admission webhooks) with a message naming the field.
# Runs against the cluster of kind/local with cubit-manager up (the e2e_cubit
# fixture), using server-side dry runs so nothing is left behind.
#
# A table file holds:
#   base:   an object the rows patch (optional)
#   setup:  objects created for real first (Cubit objects are waited for until
#           Ready) and deleted afterwards (optional)
#   rows:   each with
#     name:   the row's id
#     by:     schema (schema, CEL or built-in validation) or webhook (a Cubit
#             admission webhook); checked against the message
#     want:   substrings the error message must all contain (the field first)
#     patch:  merged into base (objects deeply, lists replaced), or
#     object: the whole object instead
# At least 30 rows across the tables (issue 8). Prints "N passed, N failed".
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
tables=${CUBIT_BAD_OBJECTS_DIR:-$repo/test/install/bad-objects}
bin=$("$repo/kind/local/build.sh" --print)
kubectl=("$bin/kubectl" --kubeconfig "$state/kubeconfig")
[[ -f $state/ready ]] || { echo "the local control plane is not up (kind/local/up.sh)"; exit 2; }

passed=0 failed=0
ok() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
nok() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }

# ---- the samples
shopt -s nullglob
for f in "$repo"/config/samples/*.yaml "$repo"/config/samples/*/*.yaml; do
  if out=$("${kubectl[@]}" apply --server-side --dry-run=server --field-manager=e2e-samples -f "$f" 2>&1); then
    ok "sample $(basename "$f") accepted"
  else
    nok "sample $(basename "$f") refused: $out"
  fi
done

# ---- the tables
rows_total=0
for table in "$tables"/*.yaml; do
  tname=$(basename "$table" .yaml)
  doc=$(yq -c . "$table")
  setup=$(jq -c '.setup // [] | .[]' <<<"$doc")

  cleanup() {
    [[ -n $setup ]] || return 0
    jq -c . <<<"$setup" | "${kubectl[@]}" delete --ignore-not-found --wait=true --timeout=120s -f - >/dev/null 2>&1 || true
  }
  trap cleanup EXIT
  if [[ -n $setup ]]; then
    if ! out=$(jq -c . <<<"$setup" | "${kubectl[@]}" apply -f - 2>&1); then
      nok "$tname: setup refused: $out"
      continue
    fi
    while IFS= read -r obj; do
      kind=$(jq -r .kind <<<"$obj")
      name=$(jq -r .metadata.name <<<"$obj")
      ns=$(jq -r '.metadata.namespace // empty' <<<"$obj")
      # Cubit objects are waited for (every kind says Ready, templates too).
      if [[ $(jq -r .apiVersion <<<"$obj") == cubit.dev/* ]]; then
        "${kubectl[@]}" wait ${ns:+-n "$ns"} --for=condition=Ready --timeout=90s "$kind/$name" >/dev/null ||
          nok "$tname: setup $kind/$name not Ready"
      fi
    done <<<"$setup"
  fi

  nrows=$(jq '.rows | length' <<<"$doc")
  for ((i = 0; i < nrows; i++)); do
    row=$(jq -c ".rows[$i]" <<<"$doc")
    rname="$tname/$(jq -r .name <<<"$row")"
    by=$(jq -r '.by // ""' <<<"$row")
    obj=$(jq -c --argjson base "$(jq -c '.base // {}' <<<"$doc")" \
      'if .object then .object else ($base * (.patch // {})) end' <<<"$row")
    rows_total=$((rows_total + 1))
    if out=$("${kubectl[@]}" create --dry-run=server -o name -f - <<<"$obj" 2>&1); then
      nok "$rname: accepted ($out)"
      continue
    fi
    missing=$(jq -r --arg out "$out" '.want[] | select(. as $w | $out | contains($w) | not)' <<<"$row")
    via_webhook=0
    grep -q 'admission webhook "[^"]*\.cubit\.dev" denied the request' <<<"$out" && via_webhook=1
    if [[ -n $missing ]]; then
      nok "$rname: message lacks $(tr '\n' ' ' <<<"$missing"): $out"
    elif [[ $by == webhook && $via_webhook == 0 ]]; then
      nok "$rname: want a denial by a Cubit webhook, got: $out"
    elif [[ $by == schema && $via_webhook == 1 ]]; then
      nok "$rname: want a schema refusal, got a webhook denial: $out"
    elif [[ $by != schema && $by != webhook ]]; then
      nok "$rname: by must be schema or webhook, not \"$by\""
    else
      ok "$rname ($by): $(tail -n 1 <<<"$out" | cut -c1-160)"
    fi
  done
  cleanup
  trap - EXIT
done

if ((rows_total < 30)); then
  nok "only $rows_total bad-object rows in $tables (want at least 30)"
fi
echo "bad-objects: $rows_total rows in $(ls "$tables"/*.yaml | wc -l) table(s)"
echo "$passed passed, $failed failed"
((failed == 0))
