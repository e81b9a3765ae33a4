#!/usr/bin/env bash
# The real IDE servers the Notebook e2e scenarios probe: Jupyter Server (from PyPI) and
# code-server (from npm), installed once into ${CUBIT_CACHE_DIR:-~/.cache/cubit}/ide-servers
# and run on the loopback address kwok gave a notebook's pod (127.1.x.y), so the
# controller's activity probe reaches them exactly as it would reach a pod.
#
#   ide-servers.sh install
#   ide-servers.sh start jupyter|code-server NAME IP PORT BASE_URL   # waits until it answers
#   ide-servers.sh stop NAME
#   ide-servers.sh stop-all
#
# code-server is installed with --ignore-scripts: its postinstall installs VS Code's
# own dependencies, one of them a git dependency fetched from GitHub, which this
# machine cannot reach. Only its native module argon2 is then built from source
# (node-gyp). That leaves the editor UI (VS Code) unloadable but code-server's own HTTP
# server complete: its routes, the heartbeat every request but /healthz moves, and
# /healthz reporting {"status", "lastHeartbeat"} -- all the culler reads.
# Every server is started in the background with a pid file under .cubit/local/ide and a
# hard lifetime (timeout 900 s), so a failed scenario never leaves one running for long.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=${CUBIT_LOCAL_STATE:-$repo/.cubit/local}
cache=${CUBIT_CACHE_DIR:-$HOME/.cache/cubit}/ide-servers
JUPYTER_SERVER_VERSION=2.21.1
CODE_SERVER_VERSION=4.96.4 # the last release line that runs on Node 20
jupyter_dir=$cache/jupyter_server-$JUPYTER_SERVER_VERSION
code_dir=$cache/code-server-$CODE_SERVER_VERSION
run=$state/ide
log() { printf '[ide-servers] %s\n' "$*" >&2; }

install() {
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if [[ ! -f $jupyter_dir/.installed ]]; then
    log "installing jupyter_server $JUPYTER_SERVER_VERSION into $jupyter_dir"
    rm -rf "$jupyter_dir"
    nice python3 -m pip install --quiet --disable-pip-version-check --target "$jupyter_dir" \
      "jupyter_server==$JUPYTER_SERVER_VERSION" >&2
    touch "$jupyter_dir/.installed"
  fi
  if [[ ! -f $code_dir/.installed ]]; then
    log "installing code-server $CODE_SERVER_VERSION into $code_dir"
    rm -rf "$code_dir"
    mkdir -p "$code_dir"
    nice npm install --prefix "$code_dir" --ignore-scripts --no-audit --no-fund --loglevel=error \
      "code-server@$CODE_SERVER_VERSION" >&2
    nice npm rebuild argon2 --prefix "$code_dir" --build-from-source --loglevel=error >&2
    touch "$code_dir/.installed"
  fi
  flock -u 9
}

wait_answer() { # url pidfile
  for _ in $(seq 1 300); do
    if curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null; then return 0; fi
    kill -0 "$(cat "$2")" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

start() { # kind name ip port base
  local kind=$1 name=$2 ip=$3 port=$4 base=$5 home
  install
  mkdir -p "$run"
  stop "$name"
  home=$run/$name
  rm -rf "$home" && mkdir -p "$home"
  case $kind in
    jupyter)
      PYTHONPATH=$jupyter_dir JUPYTER_CONFIG_DIR=$home/config JUPYTER_DATA_DIR=$home/data \
        JUPYTER_RUNTIME_DIR=$home/runtime HOME=$home \
        setsid timeout 900 python3 -m jupyter_server --ServerApp.ip="$ip" --ServerApp.port="$port" \
        --ServerApp.port_retries=0 --ServerApp.base_url="$base" --IdentityProvider.token= \
        --ServerApp.password= --ServerApp.open_browser=False --ServerApp.allow_root=True \
        --ServerApp.root_dir="$home" </dev/null >"$home/server.log" 2>&1 &
      echo $! >"$run/$name.pid"
      wait_answer "http://$ip:$port${base}api/status" "$run/$name.pid" ||
        { log "jupyter_server did not answer:"; tail -n 20 "$home/server.log" >&2; return 1; }
      ;;
    code-server)
      XDG_CONFIG_HOME=$home/config XDG_DATA_HOME=$home/data HOME=$home \
        setsid timeout 900 node "$code_dir/node_modules/code-server/out/node/entry.js" \
        --bind-addr "$ip:$port" --auth none --disable-telemetry --disable-update-check \
        --user-data-dir "$home/user-data" --extensions-dir "$home/extensions" \
        --abs-proxy-base-path "${base%/}" "$home" </dev/null >"$home/server.log" 2>&1 &
      echo $! >"$run/$name.pid"
      wait_answer "http://$ip:$port/healthz" "$run/$name.pid" ||
        { log "code-server did not answer:"; tail -n 20 "$home/server.log" >&2; return 1; }
      ;;
    *) log "unknown server $kind"; return 2 ;;
  esac
  log "$kind $name serving on http://$ip:$port$base (pid $(cat "$run/$name.pid"))"
}

stop() { # name
  local pidfile=$run/$1.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  # setsid made the server its own process group: end the group (timeout and child).
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

case ${1:-} in
  install) install ;;
  start) shift; [[ $# -eq 5 ]] || { log "usage: start KIND NAME IP PORT BASE_URL"; exit 2; }; start "$@" ;;
  stop) stop "$2" ;;
  stop-all) for f in "$run"/*.pid; do [[ -f $f ]] && stop "$(basename "$f" .pid)"; done; true ;;
  *) echo "usage: $0 install | start KIND NAME IP PORT BASE_URL | stop NAME | stop-all" >&2; exit 2 ;;
esac
