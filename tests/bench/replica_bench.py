#!/usr/bin/env python3
"""Replicas on PostgreSQL: throughput with 1, 2 and 3 replicas behind HAProxy, and 100 projects
training at once across 3 replicas. No Label Studio: webhooks and /setup are sent as Label
Studio sends them (the loop latency with Label Studio, PostgreSQL against SQLite, is
loop_latency.py with LOOPDECK_STORE set; replica_bench.sh runs both).

Throughput: a fresh database, N replicas of `loopdeck serve --store`, one project trained on 400
annotations (every replica serves the version), HAProxy (tests/replicas/haproxy_fixture.py, the
same rules as packaging/deploy/haproxy.cfg) in front; wrk posts /predict with one task per request
through HAProxy for SECONDS (16 connections), after a 2 s warm-up. One replica is also measured
without HAProxy. The machine's cores are shared by the replicas, HAProxy, PostgreSQL and wrk.

100 projects: a fresh database, 3 replicas behind HAProxy, --train-every 200. For each project a
/setup, then 200 annotations as ANNOTATION_CREATED webhooks through HAProxy (so any replica takes
any of them), projects interleaved; the 200th of a project crosses its threshold. Measured: from
the last webhook until every project has an active version that every replica serves; the number
of versions and trained runs per project (must be 1 each) and which replica trained them.

usage: replica_bench.py LOOPDECK_BINARY OUT_JSON [--seconds S] [--projects P] [--annotations A]
"""
import argparse
import datetime
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "replicas"))
sys.path.insert(0, HERE)
import haproxy_fixture  # noqa: E402
import loop_common as lc  # noqa: E402
import pg_fixture  # noqa: E402

LABEL_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text" choice="single">'
                '<Choice value="Positive"/><Choice value="Negative"/></Choices></View>')
POS = "good great excellent wonderful lovely superb fine nice happy brilliant".split()
NEG = "bad awful terrible horrible poor sad dreadful nasty ugly boring".split()
FILL = "the movie story plot actor scene music ending film camera".split()


def sentence(rng, positive):
    words = [rng.choice(POS if positive else NEG) for _ in range(3)] + [rng.choice(FILL) for _ in range(5)]
    rng.shuffle(words)
    return " ".join(words)


def call(url, method, path, body=None, token=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def webhook(pid, task, ann, text, label):
    project = {"id": pid, "title": f"P{pid}", "created_at": "2025-11-25T10:00:00.000000Z", "label_config": LABEL_CONFIG}
    return {"action": "ANNOTATION_CREATED", "project": project,
            "task": {"id": task, "data": {"text": text}, "project": pid, "updated_at": "2025-11-25T10:00:01.000000Z"},
            "annotation": {"id": ann, "task": task, "project": pid, "was_cancelled": False, "ground_truth": False,
                           "result": [{"from_name": "sentiment", "to_name": "text", "type": "choices",
                                       "value": {"choices": [label]}}],
                           "created_at": "2025-11-25T10:00:01.000000Z", "updated_at": "2025-11-25T10:00:01.000000Z"}}


def key_of(pid):
    return f"{pid}.1764064800"


class Replicas:
    """N `loopdeck serve --store URL` sharing one operator token."""

    def __init__(self, binary, store_url, n, workdir, extra=()):
        self.token = secrets.token_urlsafe(32)
        self.procs, self.ports, self.logs = [], [], []
        env = dict(os.environ, LOOPDECK_STORE=store_url)
        for i in range(n):
            port = lc.free_port()
            data = os.path.join(workdir, f"replica{i + 1}")
            os.makedirs(data, exist_ok=True)
            path = os.path.join(data, "operator-token")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(self.token + "\n")
            log = open(os.path.join(data, "serve.log"), "a")
            args = [binary, "serve", "--port", str(port), "--data-dir", data, "--replica-name", f"r{i + 1}"] + list(extra)
            self.procs.append(subprocess.Popen(args, env=env, stdout=log, stderr=log))
            self.ports.append(port)
            self.logs.append(log)
        for port in self.ports:
            for _ in range(600):
                try:
                    if call(f"http://127.0.0.1:{port}", "GET", "/ready", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            else:
                self.stop()
                raise RuntimeError(f"replica on {port} did not become ready")

    def urls(self):
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    def cpu_seconds(self):
        return sum(lc.process_cpu_seconds(p.pid) for p in self.procs if p.poll() is None)

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in self.logs:
            log.close()


def train_one(replicas, front, pid=1, n=400):
    rng = random.Random(5)
    call(front, "POST", "/setup", {"project": key_of(pid), "schema": LABEL_CONFIG})
    for t in range(1, n + 1):
        positive = t % 2 == 0
        st, body = call(front, "POST", "/webhook", webhook(pid, t, 100000 + t, sentence(rng, positive),
                                                          "Positive" if positive else "Negative"))
        if st != 201:
            raise RuntimeError(f"webhook {t}: {st} {body}")
    st, body = call(front, "POST", f"/loop/train?project={key_of(pid)}", token=replicas.token)
    if st != 200:
        raise RuntimeError(f"train: {st} {body}")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        versions = [call(u, "POST", "/setup", {"project": key_of(pid), "schema": LABEL_CONFIG})[1].get("model_version")
                    for u in replicas.urls()]
        if all(v == "loopdeck-v1" for v in versions):
            return
        time.sleep(0.2)
    raise RuntimeError(f"not every replica serves loopdeck-v1: {versions}")


def wrk(url, seconds, bodies):
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", os.path.join(HERE, "serve_bench.lua"), url, "--", bodies],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
    line = next(l for l in out.stdout.splitlines() if l.startswith("{"))
    return json.loads(line)


def throughput(binary, pg, workdir, seconds):
    bodies = os.path.join(workdir, "bodies.jsonl")
    rng = random.Random(9)
    with open(bodies, "w") as f:
        for i in range(200):
            f.write(json.dumps({"project": key_of(1), "label_config": LABEL_CONFIG,
                                "tasks": [{"id": 900000 + i, "data": {"text": sentence(rng, i % 2 == 0)}}]}) + "\n")
    results = []
    for n in (1, 2, 3):
        url = pg.create_database(f"bench_tp{n}")
        # By hand only: the one version this measures is trained by /loop/train below.
        replicas = Replicas(binary, url, n, os.path.join(workdir, f"tp{n}"), extra=["--train-every", "0"])
        proxy = None
        try:
            proxy = haproxy_fixture.Haproxy(replicas.ports, quiet=True).start()
            train_one(replicas, proxy.url)
            targets = [("haproxy", proxy.url)] + ([("direct", replicas.urls()[0])] if n == 1 else [])
            for via, base in targets:
                wrk(base + "/predict", 2, bodies)  # warm-up
                cpu0 = replicas.cpu_seconds()
                r = wrk(base + "/predict", seconds, bodies)
                cpu = replicas.cpu_seconds() - cpu0
                rps = r["requests"] / (r["duration_us"] / 1e6)
                row = {"replicas": n, "via": via, "requests_per_s": round(rps, 1), "p50_ms": r["p50_us"] / 1000,
                       "p99_ms": r["p99_us"] / 1000, "errors": r["socket_errors"] + r["non2xx"],
                       "replica_cpu_s_per_1000": round(1000 * cpu / max(1, r["requests"]), 3)}
                print(json.dumps(row), file=sys.stderr, flush=True)
                results.append(row)
        finally:
            if proxy:
                proxy.stop()
            replicas.stop()
    return results


def many_projects(binary, pg, workdir, projects, annotations):
    url = pg.create_database("bench_projects")
    replicas = Replicas(binary, url, 3, os.path.join(workdir, "projects"), extra=["--train-every", str(annotations)])
    proxy = None
    try:
        proxy = haproxy_fixture.Haproxy(replicas.ports, quiet=True).start()
        front = proxy.url
        for pid in range(1, projects + 1):
            st, body = call(front, "POST", "/setup", {"project": key_of(pid), "schema": LABEL_CONFIG})
            if st != 200:
                raise RuntimeError(f"setup {pid}: {st} {body}")
        rng = random.Random(11)
        t0 = time.monotonic()
        failed = 0
        # Interleaved: every project gets its k-th annotation before any gets its (k+1)-th, so
        # all thresholds are crossed within the last round.
        for k in range(1, annotations + 1):
            for pid in range(1, projects + 1):
                task = pid * 10000 + k
                positive = (k + pid) % 2 == 0
                st, _ = call(front, "POST", "/webhook", webhook(pid, task, task, sentence(rng, positive),
                                                                 "Positive" if positive else "Negative"))
                failed += st != 201
        posted = time.monotonic()
        keys = [key_of(p) for p in range(1, projects + 1)]
        deadline = posted + 1800
        missing = keys
        while time.monotonic() < deadline:
            rows = pg.query_json(url, "SELECT project_key AS k, version AS v FROM model_active")
            active = {r["k"]: r["v"] for r in rows}
            missing = [k for k in keys if k not in active]
            if not missing:
                break
            time.sleep(0.5)
        all_active = time.monotonic()
        # Every replica serves each project's version.
        served_everywhere = None
        while time.monotonic() < deadline:
            ok = True
            for u in replicas.urls():
                for k in keys:
                    st, body = call(u, "POST", "/setup", {"project": k, "schema": LABEL_CONFIG})
                    if st != 200 or body.get("model_version") != f"loopdeck-v{active.get(k, 0)}":
                        ok = False
                        break
                if not ok:
                    break
            if ok:
                served_everywhere = time.monotonic()
                break
            time.sleep(0.5)
        per_project = pg.query_json(url, "SELECT project_key,"
                                         " (SELECT COUNT(*) FROM model_file f WHERE f.project_key = p.project_key) AS versions,"
                                         " (SELECT COUNT(*) FROM loop_run r WHERE r.project_key = p.project_key AND r.outcome = 'trained') AS runs"
                                         " FROM loop_project p")
        by_replica = {r["r"]: r["n"] for r in pg.query_json(url, "SELECT metrics::json->>'replica' AS r, COUNT(*) AS n"
                                                                 " FROM model_file GROUP BY 1")}
        return {"projects": projects, "annotations_per_project": annotations, "webhooks_failed": failed,
                "webhooks_s": round(posted - t0, 1), "webhooks_per_s": round(projects * annotations / (posted - t0), 1),
                "all_active_after_last_webhook_s": round(all_active - posted, 2),
                "served_by_every_replica_after_last_webhook_s": round(served_everywhere - posted, 2) if served_everywhere else None,
                "projects_without_version": len(missing),
                "projects_with_exactly_one_version": sum(1 for r in per_project if r["versions"] == 1),
                "projects_with_exactly_one_trained_run": sum(1 for r in per_project if r["runs"] == 1),
                "versions_by_replica": by_replica}
    finally:
        if proxy:
            proxy.stop()
        replicas.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("out")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--projects", type=int, default=100)
    ap.add_argument("--annotations", type=int, default=200)
    ap.add_argument("--skip-throughput", action="store_true")
    a = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="replica-bench-")
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    with pg_fixture.PgServer(quiet=True) as pg:
        if not a.skip_throughput:
            doc["throughput"] = throughput(a.binary, pg, workdir, a.seconds)
        doc["many_projects"] = many_projects(a.binary, pg, workdir, a.projects, a.annotations)
        print(json.dumps(doc["many_projects"]), file=sys.stderr, flush=True)
    doc["machine"] = lc.machine()
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
