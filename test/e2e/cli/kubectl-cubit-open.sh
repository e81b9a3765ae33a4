#!/usr/bin/env bash
# `kubectl cubit open NOTEBOOK` port-forwards through the API server against kind/local:
# a real HTTP server runs on the notebook pod's IP and port 8888 (pod IPs are loopback
# addresses here), kwok is told to connect forwards of that port to it
# (kind/local/pod-port.sh), and curl through the forwarded local port gets that server's
# answers: a GET of the notebook's base path, a 300 KB POST whose digest comes back
# (bytes both ways, many frames), three connections at once. With the server gone, a
# connection fails with kwok's own error read from the stream's error channel, and the
# forward goes on. SIGINT ends it with exit code 0 (under ASan: no report); an unknown
# notebook exits 3 with "did you mean".
set -euo pipefail
ns=e2e-cli-open
# shellcheck source=common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  kubectl delete project "$ns" --wait=false >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [[ -f $f ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done
  exit 1
}
# wait_line FILE PATTERN: the first line of FILE matching PATTERN, within 30 s.
wait_line() {
  for _ in $(seq 300); do
    grep -m1 -E -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

cli_project cli-open
cat <<'YAML' | kubectl apply -n "$ns" -f - >/dev/null
apiVersion: cubit.dev/v1alpha1
kind: Notebook
metadata: {name: lab}
spec:
  ide: jupyter
  resources: {cpu: 100m, memory: 128Mi}
YAML
kubectl wait -n "$ns" --for=jsonpath='{.status.phase}'=Running nb/lab --timeout=90s >/dev/null ||
  fail "lab never ran: $(kubectl get nb -n "$ns" lab -o jsonpath='{.status}')"
pod=$(kubectl get pods -n "$ns" -l cubit.dev/notebook=lab -o jsonpath='{.items[0].metadata.name}')
ip=$(kubectl get pod -n "$ns" "$pod" -o jsonpath='{.status.podIP}')
[[ -n $pod && -n $ip ]] || fail "lab has no pod with an IP"

echo "--- the server behind the pod: $ip:8888"
cat >"$work/server.py" <<'PY'
import hashlib, http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(("pod server %s path %s\n" % (sys.argv[2], self.path)).encode())
    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        self.answer(("sha256 %s\n" % hashlib.sha256(data).hexdigest()).encode())
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], 8888), H).serve_forever()
PY
timeout 300 python3 "$work/server.py" "$ip" "$pod" 2>"$work/server.err" &
server=$!
pids+=("$server")
for _ in $(seq 50); do curl -fsS -o /dev/null "http://$ip:8888/" 2>/dev/null && break; sleep 0.1; done
"$repo/kind/local/pod-port.sh" -n "$ns" "$pod" 8888 >/dev/null

echo "--- open lab --port 0: forwards"
# The binary itself in the background (not through the cubit function, whose subshell
# would take the SIGINT below).
"$build/kubectl-cubit" -n "$ns" open lab --port 0 >"$work/open.out" 2>"$work/open.err" &
open=$!
pids+=("$open")
line=$(wait_line "$work/open.out" '^Forwarding from 127\.0\.0\.1:[0-9]+ -> ') || fail "open printed no Forwarding line"
port=$(sed -E 's/^Forwarding from 127\.0\.0\.1:([0-9]+) -> .*/\1/' <<<"$line")
[[ $line == "Forwarding from 127.0.0.1:$port -> $pod:8888" ]] || fail "Forwarding line: $line"
wait_line "$work/open.out" "^http://127\.0\.0\.1:$port/notebook/$ns/lab/\$" >/dev/null || fail "open printed no URL"
# kwok learns of the PortForward through a watch: the first tries may fail on its error channel.
got=""
for _ in $(seq 50); do
  got=$(curl -fsS --max-time 10 "http://127.0.0.1:$port/notebook/$ns/lab/" 2>/dev/null) && break
  sleep 0.2
done
[[ $got == "pod server $pod path /notebook/$ns/lab/" ]] || fail "GET through the forward: [$got]"
head -c 300000 /dev/urandom >"$work/body"
want=$(sha256sum "$work/body" | cut -d' ' -f1)
got=$(curl -fsS --max-time 30 --data-binary @"$work/body" "http://127.0.0.1:$port/upload")
[[ $got == "sha256 $want" ]] || fail "POST of 300 KB through the forward: [$got], want sha256 $want"
for i in 1 2 3; do curl -fsS --max-time 30 "http://127.0.0.1:$port/c$i" >"$work/c$i" & done
wait %curl 2>/dev/null || true
for i in 1 2 3; do
  for _ in $(seq 100); do [[ -s $work/c$i ]] && break; sleep 0.1; done
  [[ $(cat "$work/c$i") == "pod server $pod path /c$i" ]] || fail "connection $i at once: [$(cat "$work/c$i")]"
done

echo "--- the server gone: kwok's error on the error channel, the forward goes on"
kill "$server"
wait "$server" 2>/dev/null || true
if curl -fsS --max-time 10 "http://127.0.0.1:$port/gone" >/dev/null 2>&1; then fail "a GET succeeded with no server"; fi
for _ in $(seq 50); do grep -q "refused" "$work/open.err" && break; sleep 0.1; done
has "$work/open.err" "to $ns/$pod:8888: error forwarding port 8888 to pod"
has "$work/open.err" "connection refused"
kill -0 "$open" 2>/dev/null || fail "open ended after a failed connection"

echo "--- SIGINT ends it cleanly"
kill -INT "$open"
code=0
wait "$open" || code=$?
[[ $code == 0 ]] || fail "open exited $code after SIGINT"
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$work/open.err"; then fail "sanitizer report"; fi
if curl -fsS --max-time 3 "http://127.0.0.1:$port/" >/dev/null 2>&1; then fail "the port still answers"; fi

echo "--- an unknown notebook: did you mean"
code=0
cubit open labb >/dev/null 2>"$work/unknown.err" || code=$?
[[ $code == 3 ]] || fail "open labb exited $code, want 3"
has "$work/unknown.err" "no Notebook named labb in namespace $ns; did you mean Notebook lab?"
echo "PASS"
