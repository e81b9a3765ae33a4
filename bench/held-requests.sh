#!/usr/bin/env bash
# The memory a server holds for requests whose bodies are not yet complete:
# opens N connections to URL, each announcing a body of BYTES (default
# 7 MiB) and sending all of it but the last byte, then holds them and
# prints the server's resident set size (VmRSS of PID) before and while
# they are held, and how each connection was answered. Prints; never
# asserts.
#
#   bench/held-requests.sh PID URL [METHOD] [N] [BYTES]
#   bench/held-requests.sh "$(cat .cubit/local/manager.pid)" http://127.0.0.1:18081/healthz GET 8
#
# https URLs are not verified (the figure is the server's memory, not its
# certificate).
set -euo pipefail
pid=${1:?PID of the server} url=${2:?URL} method=${3:-POST} n=${4:-8} bytes=${5:-7340032}
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
python3 - "$url" "$method" "$n" "$bytes" "$pid" "$before" <<'PY'
import socket, ssl, sys, time, urllib.parse
url, method, n, size, pid, before = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
u = urllib.parse.urlsplit(url)
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

held, answers = [], {}
chunk = b"x" * 65536
for i in range(n):
    s = socket.create_connection((u.hostname, u.port), timeout=5)
    if u.scheme == "https":
        s = ctx.wrap_socket(s, server_hostname=u.hostname)
    s.sendall(f"{method} {u.path or '/'} HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {size}\r\n\r\n".encode())
    sent, answer = 0, None
    s.settimeout(0.0)
    while sent < size - 1:
        try:
            sent += s.send(chunk[: min(len(chunk), size - 1 - sent)])
        except (BlockingIOError, ssl.SSLWantWriteError):
            time.sleep(0.001)
        except OSError:
            answer = "closed while sending"
            break
        if sent % (1 << 20) < 65536:
            try:
                data = s.recv(4096)
                answer = data.split(b"\r\n", 1)[0].decode() if data else "closed while sending"
                break
            except (BlockingIOError, ssl.SSLWantReadError):
                pass
            except OSError:
                answer = "closed while sending"
                break
    if answer is None:  # everything sent: has the server answered already?
        s.settimeout(0.3)
        try:
            data = s.recv(4096)
            answer = data.split(b"\r\n", 1)[0].decode() if data else "closed"
        except (socket.timeout, ssl.SSLWantReadError):
            answer = "held: the server waits for the last byte"
        except OSError:
            answer = "closed"
    answers[answer] = answers.get(answer, 0) + 1
    held.append(s)
time.sleep(1.0)
during = rss()
print(f"{method} {url}: {n} connections x {size} bytes announced, all but 1 sent")
print(f"  VmRSS before {before / 1024:.1f} MiB, while held {during / 1024:.1f} MiB (+{(during - before) / 1024:.1f} MiB)")
for a, c in sorted(answers.items()):
    print(f"  {c} x {a}")
for s in held:
    s.close()
PY
