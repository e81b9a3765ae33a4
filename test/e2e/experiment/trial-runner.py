#!/usr/bin/env python3
"""Plays the program of every trial of an Experiment on kind/local (test code).

A trial is a TrainingJob whose pods kwok runs without any program. This runner
watches the pods labelled cubit.dev/experiment=<experiment> in one namespace, reads
each trial's assignment (the annotation cubit.dev/trial-parameters of the pod, else of
its TrainingJob), computes a known function of it and serves the result as the pod's
container output through kind/local/pod-log.sh, paced so that the last line is
written before kwok completes the pod (cubit.dev/fake-duration-seconds):

    step=1 loss=<v1>
    ...
    step=S loss=<f(params)>

The function is a shifted quadratic, f = sum over the --optimum parameters of
((value - centre) / width)^2 (a categorical parameter adds 1 unless it equals its
centre), minimum 0 at the centre. Step s reports f + (f + 1) * (S - s) / (S * s): the
curve falls to f at the last step and ranks trials as f does from the first step, so
medianstop can tell bad trials early.

Each served pod is appended to --record as one JSON line
{"pod", "trial", "parameters", "value", "steps", "written", "late", "gone"}: "late":
true means the pod ended before its last line was written (the runner was too slow);
the rest is written then, so a controller that reads a finished trial's log again
when it found none still gets it; "gone": the pod was deleted while it ran (a trial
stopped early) after "written" lines. Once the pod ended, its log is ended too (pod-log.sh --end), so a
`logs -f` of it returns as on a real node.

The runner stops by itself when the Experiment is finished (status.phase Succeeded or
Failed, or the object is gone) and no pod of it is left to serve, or after --timeout
seconds (exit status 3).
"""
import argparse
import calendar
import json
import os
import subprocess
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LABEL_EXPERIMENT = "cubit.dev/experiment"
LABEL_TRIAL = "cubit.dev/trial"
LABEL_TRAININGJOB = "cubit.dev/trainingjob"
ANNOTATION_PARAMETERS = "cubit.dev/trial-parameters"
ANNOTATION_DURATION = "cubit.dev/fake-duration-seconds"
FINISHED = ("Succeeded", "Failed")


def parse_optimum(text):
    """"x=1.5/2,opt=adam" -> {"x": (1.5, 2.0), "opt": ("adam", None)}."""
    out = {}
    for item in text.split(","):
        name, sep, spec = item.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"--optimum {item!r}: want name=centre[/width]")
        centre, _, width = spec.partition("/")
        try:
            out[name] = (float(centre), float(width) if width else 1.0)
        except ValueError:
            out[name] = (centre, None)
    return out


def objective(params, optimum):
    """The known function: 0 at the optimum, growing quadratically away from it."""
    f = 0.0
    for name, (centre, width) in optimum.items():
        if name not in params:
            raise KeyError(f"the trial has no parameter {name!r} (it has {sorted(params)})")
        v = params[name]
        if width is None:
            f += 0.0 if str(v) == centre else 1.0
        else:
            f += ((float(v) - centre) / width) ** 2
    return f


def curve(f, step, steps):
    """Step s of S: falls to exactly f at S, ordered like f at every step."""
    return f if step == steps else f + (f + 1.0) * (steps - step) / (steps * step)


class Watch:
    """The objects of one kind matching a label selector, kept current by a
    `kubectl get --watch` in a thread: one kubectl for the whole run instead of one
    per look, so a pod is seen within a moment of its creation even when kubectl takes
    seconds to start on a loaded machine. A watch that ends is started again."""

    def __init__(self, kubectl, kind, selector):
        self.cmd = kubectl + ["get", kind, "-l", selector, "--watch", "--output-watch-events", "-o", "json"]
        self.items = {}  # uid -> object
        self.synced = threading.Event()  # the first event arrived (or the list was empty)
        self.lock = threading.Lock()
        self.errors = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        decoder = json.JSONDecoder()
        while True:
            proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            buf = ""
            while True:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                buf += chunk.decode()
                while True:
                    buf = buf.lstrip()
                    try:
                        event, end = decoder.raw_decode(buf)
                    except ValueError:
                        break
                    buf = buf[end:]
                    obj = event.get("object") or {}
                    uid = (obj.get("metadata") or {}).get("uid")
                    with self.lock:
                        if event.get("type") == "DELETED":
                            self.items.pop(uid, None)
                        elif uid:
                            self.items[uid] = obj
                    self.synced.set()
            err = proc.stderr.read().decode().strip()
            proc.wait()
            if err:
                self.errors.append(err)
            time.sleep(0.5)

    def list(self):
        with self.lock:
            return list(self.items.values())


class Runner:
    def __init__(self, args):
        self.a = args
        self.kubectl = [args.kubectl, "-n", args.namespace]
        self.pods = {}  # uid -> state of a pod being (or done being) served
        self.params_of = {}  # TrainingJob name -> assignment
        self.enders = []
        self.seen_experiment = False
        sel = f"{LABEL_EXPERIMENT}={args.experiment}"
        self.pod_watch = Watch(self.kubectl, "pods", sel)
        self.job_watch = Watch(self.kubectl, "trainingjobs", sel)

    def get(self, *what):
        r = subprocess.run(self.kubectl + ["get", *what, "-o", "json"], capture_output=True, text=True)
        if r.returncode != 0:
            if "NotFound" in r.stderr:
                return None
            raise RuntimeError(f"kubectl get {' '.join(what)}: {r.stderr.strip()}")
        return json.loads(r.stdout)

    def parameters(self, pod):
        meta = pod["metadata"]
        text = (meta.get("annotations") or {}).get(ANNOTATION_PARAMETERS)
        if text is None:
            labels = meta.get("labels") or {}
            tj = labels.get(LABEL_TRAININGJOB) or f"{self.a.experiment}-{labels.get(LABEL_TRIAL)}"
            if tj not in self.params_of:
                for obj in self.job_watch.list():
                    ann = obj["metadata"].get("annotations") or {}
                    if ANNOTATION_PARAMETERS in ann:
                        self.params_of[obj["metadata"]["name"]] = ann[ANNOTATION_PARAMETERS]
                if tj not in self.params_of:
                    return None  # not there yet: look again next round
            text = self.params_of[tj]
        return json.loads(text)

    def log(self, st, what):
        """One line per action on stderr, for the scenarios' failure reports."""
        print(f"{time.strftime('%H:%M:%S')} trial {st['trial']} pod {st['pod']}: {what}", file=sys.stderr, flush=True)

    def write(self, st, lines):
        """Appends lines to the pod's log in the background (one writer per pod at a
        time keeps them in order; pods are written in parallel)."""
        proc = subprocess.Popen([self.a.pod_log, "-n", self.a.namespace, st["pod"]], stdin=subprocess.PIPE, text=True)
        proc.stdin.write("".join(line + "\n" for line in lines))
        proc.stdin.close()
        st["writer"] = proc
        self.log(st, f"writing steps up to {st['written']} of {st['steps']}")

    def lines(self, st, due):
        """The lines from the last written up to step 'due' (marked written)."""
        out = [f"step={s} {self.a.metric}={curve(st['value'], s, st['steps']):.10g}"
               for s in range(st["written"] + 1, due + 1)]
        if due > st["written"]:
            st["written"] = due
            if due == st["steps"]:
                self.record(st)
        return out

    def busy_writing(self, st):
        proc = st.get("writer")
        if proc is None or proc.poll() is None:
            return proc is not None
        st["writer"] = None
        if proc.returncode != 0:
            raise RuntimeError(f"pod-log.sh for {st['pod']} exited {proc.returncode}")
        return False

    def serve(self, pod, now):
        meta, status = pod["metadata"], pod.get("status") or {}
        uid, name = meta["uid"], meta["name"]
        st = self.pods.get(uid)
        if st is None:
            params = self.parameters(pod)
            if params is None:
                return
            f = objective(params, self.a.optimum)
            st = self.pods[uid] = {
                "pod": name, "trial": (meta.get("labels") or {}).get(LABEL_TRIAL), "parameters": params,
                "value": f, "steps": self.a.steps, "written": 0, "late": False, "gone": False, "ended": False, "opened": False,
            }
            self.log(st, f"seen ({status.get('phase')}), parameters {params}, f = {f:.6g}")
        if st["ended"] or self.busy_writing(st):
            return
        phase = status.get("phase")
        if not st["opened"] and status.get("podIP") is None and phase not in FINISHED and meta.get("deletionTimestamp") is None and pod["spec"].get("nodeName"):
            # Bound, not started yet: make its log now (all of it with --at-once), so
            # that lines due later cost no API call.
            st["opened"] = True
            self.write(st, self.lines(st, self.a.steps if self.a.at_once else 0))
            return
        started = status.get("startTime")
        if st["written"] < st["steps"] and started and phase not in FINISHED:
            # kwok completes the pod 'duration' after it started; the last line is due
            # a margin before that, the others spread evenly up to it. startTime has
            # whole seconds, rounded down: the lines come early rather than late.
            duration = float((meta.get("annotations") or {}).get(ANNOTATION_DURATION, "2"))
            span = duration - self.a.margin
            elapsed = now - calendar.timegm(time.strptime(started, "%Y-%m-%dT%H:%M:%SZ"))
            steps = st["steps"]
            due = steps if steps == 1 or span <= 0 or self.a.at_once else min(steps, 1 + int(elapsed / span * (steps - 1)))
            if due > st["written"]:
                self.write(st, self.lines(st, due))
                st["opened"] = True
        if phase in FINISHED:
            if st["written"] < st["steps"]:
                # Too slow (a loaded machine): the rest now. A controller that read the
                # log before finds it on its next read; "late" says so.
                st["late"] = True
                self.log(st, f"LATE: the pod ended ({phase}) with {st['written']} of {st['steps']} steps written;"
                             " writing the rest now")
                self.write(st, self.lines(st, st["steps"]))
                return  # ended next round, once written
            st["ended"] = True
            # In the background: pod-log.sh --end waits a second for late readers.
            self.enders.append(subprocess.Popen([self.a.pod_log, "-n", self.a.namespace, "--end", name]))

    def record(self, st):
        if self.a.record:
            with open(self.a.record, "a") as out:
                out.write(json.dumps({k: st[k] for k in ("pod", "trial", "parameters", "value", "steps", "written", "late", "gone")},
                                     sort_keys=True) + "\n")

    def run(self):
        deadline = time.monotonic() + self.a.timeout
        while time.monotonic() < deadline:
            now = time.time()
            pods = self.pod_watch.list()
            for pod in pods:
                self.serve(pod, now)
            # A pod deleted while it ran (a trial stopped early, a job deleted): no
            # more lines for it.
            seen = {pod["metadata"]["uid"] for pod in pods}
            for w in (self.pod_watch, self.job_watch):
                while w.errors:
                    print(f"trial-runner: kubectl watch: {w.errors.pop(0)}", file=sys.stderr, flush=True)
            for uid, st in self.pods.items():
                if uid not in seen and not st["ended"]:
                    st["ended"] = st["gone"] = True
                    self.record(st)
                    self.log(st, f"deleted after {st['written']} of {st['steps']} steps")
            self.enders = [p for p in self.enders if p.poll() is None]
            writing = any(st.get("writer") and st["writer"].poll() is None for st in self.pods.values())
            busy = any((p.get("status") or {}).get("phase") not in FINISHED for p in pods)
            finished = False
            if self.a.until_finished and not busy:
                exp = self.get("experiment", self.a.experiment)
                # Gone counts only once it was there: the runner starts before it exists.
                finished = (exp is None and self.seen_experiment) or (
                    exp is not None and (exp.get("status") or {}).get("phase") in FINISHED)
                self.seen_experiment |= exp is not None
            if self.a.until_finished and finished and not busy and not self.enders and not writing:
                return 0
            if not self.a.until_finished and self.a.pods and not self.enders and not writing and sum(
                    1 for s in self.pods.values() if s["ended"]) >= self.a.pods:
                return 0
            time.sleep(self.a.interval)
        print(f"trial-runner: still running after {self.a.timeout:g} s", file=sys.stderr)
        return 3


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--namespace", required=True)
    p.add_argument("--experiment", required=True, help="serve the pods labelled cubit.dev/experiment=NAME")
    p.add_argument("--optimum", required=True, type=parse_optimum,
                   help="name=centre[/width],...: the function's minimum (a non-number: a categorical's best value)")
    p.add_argument("--metric", default="loss")
    p.add_argument("--steps", type=int, default=5, help="intermediate values per trial (default 5)")
    p.add_argument("--margin", type=float, default=3,
                   help="seconds between the last line and kwok completing the pod (default 3: kubectl is slow on a"
                        " loaded 2-core machine)")
    p.add_argument("--at-once", action="store_true",
                   help="write every step as soon as the pod is bound (no pacing: for searches without early stopping)")
    p.add_argument("--interval", type=float, default=0.5, help="seconds between looks at the pods")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--record", help="append a JSON line per served pod to this file")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--until-finished", action="store_true",
                       help="stop once the Experiment is Succeeded or Failed (or gone) and its pods ended")
    group.add_argument("--pods", type=int, help="stop once this many pods were served and ended")
    p.add_argument("--kubectl", default=os.environ.get("KUBECTL", "kubectl"))
    p.add_argument("--pod-log", default=os.path.join(REPO, "kind", "local", "pod-log.sh"))
    args = p.parse_args()
    if args.steps < 1:
        p.error("--steps must be at least 1")
    return Runner(args).run()


if __name__ == "__main__":
    sys.exit(main())
