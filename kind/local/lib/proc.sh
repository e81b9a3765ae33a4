# shellcheck shell=bash disable=SC2034
# Starting, finding and stopping the control plane's processes by pid file.
# Sourced by up.sh and down.sh.
#
# $KL_RUN/NAME.pid holds the pid on line 1 and the program's path on line 2. A pid
# only counts as ours while /proc/PID/exe is still that program, so a pid file left by
# a crash never matches (and never kills) an unrelated process that reused the pid.

# Components in start order; down.sh stops them in reverse.
KL_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok training-operator)

proc_pid() { # NAME -> pid on stdout if the process is alive and ours
  local file=$KL_RUN/$1.pid pid exe actual
  [[ -f $file ]] || return 1
  { read -r pid; read -r exe; } <"$file" || true
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  actual=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # A binary replaced by a rebuild shows as "PATH (deleted)".
  [[ $actual == "$exe" || $actual == "$exe (deleted)" ]] || return 1
  printf '%s\n' "$pid"
}

proc_alive() { proc_pid "$1" >/dev/null; }

# proc_port_busy PORT: something accepts connections on 127.0.0.1:PORT.
proc_port_busy() {
  (exec 3<>"/dev/tcp/$KL_HOST/$1") 2>/dev/null
}

# proc_start NAME PORT PROGRAM ARGS...: start PROGRAM detached (own session, stdin
# from /dev/null, output appended to logs/NAME.log) unless it already runs.
proc_start() {
  local name=$1 port=$2 prog=$3
  shift 3
  proc_alive "$name" && return 0
  rm -f "$KL_RUN/$name.pid"
  if [[ -n $port ]] && proc_port_busy "$port"; then
    kl_die "port $KL_HOST:$port, needed by $name, is taken by another process (see README for the CUBIT_*_PORT variables)"
  fi
  local log=$KL_LOGS/$name.log
  # Keep one previous log when it grows large.
  if [[ -f $log ]] && (($(stat -c %s "$log") > 50 * 1024 * 1024)); then
    mv -f "$log" "$log.1"
  fi
  printf '\n==== %s starting %s\n' "$(date -u +%FT%TZ)" "$name" >>"$log"
  # fd 8 is up.sh's lock: the daemons must not keep it.
  setsid "$prog" "$@" </dev/null >>"$log" 2>&1 8>&- &
  local pid=$! i
  printf '%s\n%s\n' "$pid" "$prog" >"$KL_RUN/$name.pid"
  # Until the fork has exec'd, /proc/PID/exe is still bash or setsid: wait for the
  # program itself so that proc_alive is not fooled by the gap.
  for ((i = 0; i < 100; i++)); do
    [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$prog" ]] && return 0
    [[ -d /proc/$pid ]] || break
    sleep 0.02
  done
  proc_expect_alive "$name"
}

# proc_stop NAME [TIMEOUT_S]: SIGTERM, wait, then SIGKILL.
proc_stop() {
  local name=$1 timeout=${2:-15} pid i
  if pid=$(proc_pid "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then
      kl_log "$name (pid $pid) ignored SIGTERM for ${timeout}s; killing"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do [[ -d /proc/$pid ]] || break; sleep 0.1; done
    fi
    kl_log "stopped $name (pid $pid)"
  fi
  rm -f "$KL_RUN/$name.pid"
}

# proc_expect_alive NAME: fail with the log's tail if NAME has exited.
proc_expect_alive() {
  proc_alive "$1" && return 0
  kl_log "$1 exited; last lines of $KL_LOGS/$1.log:"
  tail -n 30 "$KL_LOGS/$1.log" >&2 || true
  exit 1
}

# proc_wait_for DESCRIPTION TIMEOUT_S NAME COMMAND...: poll COMMAND until it succeeds,
# failing early if process NAME exits.
proc_wait_for() {
  local what=$1 timeout=$2 name=$3 start
  shift 3
  start=$(kl_now_ms)
  until "$@" >/dev/null 2>&1; do
    proc_expect_alive "$name"
    if (($(kl_now_ms) - start > timeout * 1000)); then
      kl_log "timed out after ${timeout}s waiting for $what; last lines of $KL_LOGS/$name.log:"
      tail -n 30 "$KL_LOGS/$name.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}
