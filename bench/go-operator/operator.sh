# Sourced by bench/scale.sh --operator go: stops Cubit's manager (keeping its
# command line and environment), removes Cubit's webhook configurations (nothing
# would answer them: failurePolicy Fail), starts bench/go-operator under the
# manager's identity, ports and leader election namespace, and sets pidfile and log
# for the measurements. go_restore (bench/scale.sh's exit trap) undoes all of it.
# Uses: repo, state, kubectl, health, metrics, ready() of bench/scale.sh.
go_bin=$("$repo/bench/go-operator/build.sh")
go_saved=$state/cubit-manager.saved
go_started=0 go_running=0

go_stop() { # pid
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  echo "bench/scale.sh: pid $1 still running 30 s after SIGTERM" >&2
  return 1
}

go_requests() {
  curl -fsS --max-time 5 "http://127.0.0.1:$metrics/metrics" |
    awk '/^rest_client_requests_total/ {s += $NF} END {print s + 0}'
}

go_restore() {
  ((go_started)) || return 0
  go_started=0
  # The Go operator only if this run started it (a stale pid file names no one).
  ((go_running == 0)) || go_stop "$(cat "$state/go-operator.pid")" || true
  "${kubectl[@]}" apply -f "$state/webhook-local.yaml" >/dev/null
  local cmd=() env=()
  mapfile -d '' cmd <"$go_saved/cmdline"
  mapfile -d '' env <"$go_saved/environ"
  printf '\n==== %s bench/scale.sh --operator go: starting cubit-manager again\n' "$(date -u +%FT%TZ)" >>"$state/manager.log"
  env -i "${env[@]}" setsid "${cmd[@]}" </dev/null >>"$state/manager.log" 2>&1 &
  echo $! >"$state/manager.pid"
  for _ in $(seq 1 600); do ready && return 0; sleep 0.1; done
  echo "bench/scale.sh: cubit-manager not ready 60 s after being started again" >&2
}

mkdir -p "$go_saved"
cubit_pid=$(cat "$state/manager.pid")
cp "/proc/$cubit_pid/cmdline" "$go_saved/cmdline"
cp "/proc/$cubit_pid/environ" "$go_saved/environ"
go_started=1 # from here on, exit puts Cubit's manager back
go_stop "$cubit_pid"
"${kubectl[@]}" delete -f "$state/webhook-local.yaml" --ignore-not-found >/dev/null
printf '\n==== %s bench/scale.sh starting %s\n' "$(date -u +%FT%TZ)" "$go_bin" >>"$state/go-operator.log"
setsid "$go_bin" --kubeconfig "$state/manager.kubeconfig" --metrics-bind-address "127.0.0.1:$metrics" \
  --health-probe-bind-address "127.0.0.1:$health" --leader-election-namespace cubit-system \
  </dev/null >>"$state/go-operator.log" 2>&1 &
echo $! >"$state/go-operator.pid"
go_running=1
pidfile=$state/go-operator.pid log=$state/go-operator.log
