#!/usr/bin/env python3
"""`loopdeck serve` replicas on one PostgreSQL store behind HAProxy, against a real Label Studio.

    replica_suite.py [--binary LOOPDECK] [--ls-env FILE] [--pg-env FILE] [--cases a,b,c,d] [--summary OUT.json]

LOOPDECK (or env LOOPDECK_BINARY) must know `serve --store`; without it the suite exits 77 (ctest:
skipped), or fails when LOOPDECK_REPLICAS_REQUIRE=1. Label Studio comes from the LS fixture's env file (--ls-env or LOOPDECK_LS_ENV, written
by tests/integration/labelstudio_fixture.py); PostgreSQL from the PG fixture's (--pg-env or
LOOPDECK_PG_ENV, tests/replicas/pg_fixture.py), or the suite starts its own when there is none.
The suite makes a fresh database (replicas_suite) and runs all cases in it. Three replicas r1..r3 (own data dirs, own operator tokens,
`--store postgresql://...`, `--label-studio` with LOOPDECK_TOKEN, `--train-every 20`) run behind
HAProxy (haproxy_fixture.py); Label Studio's ML backend and webhook point at HAProxy.

Cases (each check can fail; the measured numbers go into one JSON summary):
  a  threshold trigger: 2 x 20 annotations posted through Label Studio with train_every 20 (cooldown
     0, every version activated; the second 20 once version 1 is out) give exactly 2 versions and exactly 2 runs with outcome trained,
     no two runs overlapping, no claim left; every replica's /setup reports loopdeck-v1, then
     loopdeck-v2, within --propagate-limit s of the first one; every Label Studio annotation is in ls_annotation with
     the same result and cancelled flag.
  b  kill -9 of r1 while 4 client threads POST /predict through HAProxy and an annotator posts 30
     annotations through Label Studio: failed predicts counted (<= --max-failed-predicts), no
     annotation lost (store = Label Studio again).
  d1 r1 restarted with an empty data dir: /ready answers 503 {"ready":false,"why":...} or 200
     {"ready":true}; the first 200 comes only when /setup reports the active version; HAProxy takes
     it back.
  c  a project of --takeover-tasks annotated tasks (texts of --text-chars characters). c1: when
     the first training's loop_claim row appears (the replicas are still syncing the project), the
     replica it names (host:port) is killed -9; c2: once the store equals Label Studio (within
     --sync-timeout), 20 more annotations trigger a training over the whole project and its
     claimant is killed too. Each run must finish on a survivor (a version with its model_file
     whose sha256 matches, the claim gone, runs not overlapping, survivors' /setup on the new
     version); c2's version must have trained on the whole project.
  d2 the killed replica restarted with an empty data dir while that bigger model is active: its
     first /ready 200 must come with the active version served. (`serve` loads the active versions
     before it listens, so a 503 before the first 200 is not expected: ctest passes
     --ready-503-optional; without it the suite demands one. /ready's 503 for a version a replica
     cannot load is tested in tst_replicaengines.)
The order run is a, b, d1, c, d2 (d1 and d2 are selected with "d").
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "bench"))
import haproxy_fixture  # noqa: E402
import loop_common as lc  # noqa: E402
import pg_fixture  # noqa: E402

SKIP = 77
LABEL_CONFIG = lc.LABEL_CONFIG  # text + choices ham/spam


# ---- small helpers ---------------------------------------------------------------------------------
def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def epoch_ms():
    return int(time.time() * 1000)


def http(method, url, body=None, token=None, timeout=30):
    """(status, parsed JSON or text); connection errors raise OSError."""
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        r.add_header("Content-Type", "application/json")
    if token:
        r.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            text = resp.read()
            status = resp.status
    except urllib.error.HTTPError as e:
        text, status = e.read(), e.code
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, text.decode(errors="replace")[:2000]


class Checks:
    def __init__(self):
        self.items = []

    def check(self, case, name, ok, detail=""):
        self.items.append({"case": case, "check": name, "ok": bool(ok), "detail": detail})
        log(f"{'PASS' if ok else 'FAIL'} [{case}] {name}" + (f": {detail}" if detail else ""))
        return ok

    @property
    def failed(self):
        return [c for c in self.items if not c["ok"]]


def make_texts(n, chars, seed):
    """n texts of about `chars` characters with labels ham/spam: words from a shared vocabulary
    with class words mixed in (learnable, not trivially), deterministic."""
    rnd = random.Random(seed)
    syl = ["ka", "lo", "mi", "ne", "ru", "ta", "sa", "po", "de", "vi", "zu", "ge", "ba", "fo", "xi", "cha"]

    def word():
        return "".join(rnd.choice(syl) for _ in range(rnd.randint(2, 4)))
    common = [word() for _ in range(3000)]
    cls = {"ham": [word() + "h" for _ in range(400)], "spam": [word() + "s" for _ in range(400)]}
    out = []
    for i in range(n):
        label = "spam" if rnd.random() < 0.5 else "ham"
        words, length = [], 0
        while length < chars:
            w = rnd.choice(cls[label]) if rnd.random() < 0.25 else rnd.choice(common)
            words.append(w)
            length += len(w) + 1
        out.append(((f"#{i} " + " ".join(words))[:chars], label))
    return out


def choice_result(label):
    return [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


# ---- replicas ----------------------------------------------------------------------------------------
class Replica:
    def __init__(self, binary, name, port, workdir, store_url, ls_url, ls_token, train_every=20, store_via_env=False):
        self.binary, self.name, self.port = binary, name, port
        self.workdir, self.store_url, self.ls_url, self.ls_token = workdir, store_url, ls_url, ls_token
        self.train_every, self.store_via_env = train_every, store_via_env
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None
        self.token = None
        self.generation = 0
        self.data_dir = None

    def spawn(self):
        """Starts the process (fresh data dir each time) without waiting."""
        self.generation += 1
        self.data_dir = os.path.join(self.workdir, f"{self.name}-{self.generation}")
        os.makedirs(self.data_dir)
        args = [self.binary, "serve", "--port", str(self.port), "--data-dir", self.data_dir, "--log-level", "info",
                "--label-studio", self.ls_url, "--train-every", str(self.train_every)]
        env = dict(os.environ, LOOPDECK_TOKEN=self.ls_token)
        if not self.store_url:
            pass  # the per-replica SQLite store (only for trying the harness with a binary without --store)
        elif self.store_via_env:
            env["LOOPDECK_STORE"] = self.store_url
        else:
            args += ["--store", self.store_url]
        self.log_path = os.path.join(self.data_dir, "serve.log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.token = None
        return self

    def wait_up(self, timeout=120):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                if http("GET", self.url + "/health", timeout=2)[0] == 200:
                    with open(os.path.join(self.data_dir, "operator-token"), encoding="ascii") as f:
                        self.token = f.read().strip()
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer /health within {timeout}s; log:\n{self.log_tail()}")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and not self.log.closed:
            self.log.close()

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars=3000):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-chars:]
        except OSError:
            return ""

    def call(self, method, path, body=None, timeout=30):
        return http(method, self.url + path, body, token=self.token, timeout=timeout)

    def setup_version(self, key):
        st, body = self.call("POST", "/setup", {"project": key, "schema": LABEL_CONFIG}, timeout=10)
        return body.get("model_version") if st == 200 and isinstance(body, dict) else None

    def status(self, key):
        st, body = self.call("GET", f"/loop/status?project={key}", timeout=10)
        return body if st == 200 and isinstance(body, dict) else None


def binary_has_store(binary):
    try:
        r = subprocess.run([binary, "serve", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    except OSError as e:
        sys.exit(f"replica_suite: cannot run {binary}: {e}")
    return "--store" in r.stdout


# ---- the store -----------------------------------------------------------------------------------------
class Store:
    def __init__(self, psql, url):
        self.psql, self.url = psql, url

    def rows(self, sql):
        return pg_fixture.query_json(self.psql, self.url, sql)

    def scalar(self, sql):
        r = self.rows(sql)
        return next(iter(r[0].values())) if r else None

    def table_exists(self, name):
        """Whether the replicas made the table yet (remembered once true: saves a psql per poll)."""
        known = self.__dict__.setdefault("_tables", set())
        if name not in known and self.scalar(f"SELECT count(*) AS n FROM information_schema.tables WHERE table_name = '{name}'"):
            known.add(name)
        return name in known

    @staticmethod
    def of(pid):
        return f"split_part(project_key, '.', 1) = '{int(pid)}'"

    def key(self, pid):
        if not self.table_exists("loop_project"):
            return None
        return self.scalar(f"SELECT project_key FROM loop_project WHERE {self.of(pid)} ORDER BY length(project_key) DESC LIMIT 1")

    def versions(self, pid):
        if not self.table_exists("loop_version"):
            return []
        return self.rows(f"SELECT version, created, trigger_kind, examples FROM loop_version WHERE {self.of(pid)} ORDER BY version")

    def runs(self, pid):
        if not self.table_exists("loop_run"):
            return []
        return self.rows(f"SELECT run_no, trigger_kind, started_at, finished_at, outcome, version, message FROM loop_run "
                         f"WHERE {self.of(pid)} ORDER BY run_no")

    def claims(self, pid):
        if not self.table_exists("loop_claim"):
            return []
        return self.rows(f"SELECT replica, trigger_kind, started_at FROM loop_claim WHERE {self.of(pid)}")

    def overlapping_runs(self, pid):
        return self.rows(f"SELECT a.run_no AS a, b.run_no AS b FROM loop_run a JOIN loop_run b ON a.project_key = b.project_key "
                         f"AND a.run_no < b.run_no AND a.started_at < b.finished_at AND b.started_at < a.finished_at "
                         f"WHERE split_part(a.project_key, '.', 1) = '{int(pid)}'")

    def active_versions(self, pid):
        if not self.table_exists("model_active"):
            return []
        return [r["version"] for r in self.rows(f"SELECT DISTINCT version FROM model_active WHERE {self.of(pid)}")]

    def model_files(self, pid):
        if not self.table_exists("model_file"):
            return []
        return self.rows(f"SELECT version, target, sha256, length(body) AS bytes, encode(sha256(body), 'hex') AS actual "
                         f"FROM model_file WHERE {self.of(pid)} ORDER BY version")

    def annotations(self, pid):
        if not self.table_exists("ls_annotation"):
            return {}
        rows = self.rows(f"SELECT annotation_id, task_id, result, cancelled FROM ls_annotation WHERE {self.of(pid)}")
        return {int(r["annotation_id"]): r for r in rows}

    def annotation_count(self, pid):
        if not self.table_exists("ls_annotation"):
            return 0
        return int(self.scalar(f"SELECT count(*) AS n FROM ls_annotation WHERE {self.of(pid)}") or 0)


# ---- Label Studio ----------------------------------------------------------------------------------
def ls_annotations(ls, pid):
    """{annotation id: {"task_id", "result", "cancelled"}} from Label Studio's JSON export."""
    st, tasks = ls.call("GET", f"/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true", timeout=600)
    if st != 200 or not isinstance(tasks, list):
        raise RuntimeError(f"export of project {pid}: {st} {str(tasks)[:300]}")
    out = {}
    for t in tasks:
        for a in t.get("annotations") or []:
            out[int(a["id"])] = {"task_id": int(t["id"]), "result": a.get("result") or [],
                                 "cancelled": bool(a.get("was_cancelled"))}
    return out


def compare_store(store, ls, pid):
    """Differences between Label Studio's annotations and ls_annotation (empty list = equal)."""
    want = ls_annotations(ls, pid)
    have = store.annotations(pid)
    diffs = []
    for aid, a in want.items():
        row = have.get(aid)
        if row is None:
            diffs.append(f"annotation {aid} (task {a['task_id']}) missing from the store")
            continue
        try:
            result = json.loads(row["result"]) if isinstance(row["result"], str) else row["result"]
        except ValueError:
            result = row["result"]
        if int(row["task_id"]) != a["task_id"]:
            diffs.append(f"annotation {aid}: task {row['task_id']} in the store, {a['task_id']} in Label Studio")
        if result != a["result"]:
            diffs.append(f"annotation {aid}: result differs: store {json.dumps(result)[:200]} vs LS {json.dumps(a['result'])[:200]}")
        if bool(int(row["cancelled"])) != a["cancelled"]:
            diffs.append(f"annotation {aid}: cancelled {row['cancelled']} in the store, {a['cancelled']} in Label Studio")
    for aid in have:
        if aid not in want:
            diffs.append(f"annotation {aid} in the store but not in Label Studio")
    return diffs, len(want)


def wait_store_equal(store, ls, pid, timeout):
    t0 = time.monotonic()
    diffs, n = compare_store(store, ls, pid)
    while diffs and time.monotonic() - t0 < timeout:
        time.sleep(1.0)
        diffs, n = compare_store(store, ls, pid)
    return diffs, n, time.monotonic() - t0


def connect_project(ls, pid, lb_url):
    """ML backend and webhook of project pid at HAProxy. Returns whether the suite had to make the
    webhook itself (Label Studio normally makes it with the registration)."""
    st, ml = ls.call("POST", "/api/ml", {"url": lb_url, "project": pid, "title": "LoopDeck replicas"})
    if st >= 300:
        raise RuntimeError(f"register backend {lb_url}: {st} {ml}")
    hook = lb_url + "/webhook"
    end = time.monotonic() + 10
    while time.monotonic() < end:
        st, hooks = ls.call("GET", f"/api/webhooks/?project={pid}")
        if st == 200 and any((h.get("url") or "").rstrip("/") in (lb_url, hook) for h in hooks):
            return False
        time.sleep(0.5)
    st, h = ls.call("POST", "/api/webhooks/", {"project": pid, "url": hook, "send_payload": True,
                                               "send_for_all_actions": True, "is_active": True})
    if st >= 300:
        raise RuntimeError(f"webhook {hook}: {st} {h}")
    return True


# ---- the suite -------------------------------------------------------------------------------------
class Suite:
    def __init__(self, args, pg_psql, pg_url, ls_env):
        self.args = args
        self.pg_psql, self.pg_url = pg_psql, pg_url
        self.ls_env = ls_env
        self.ls = lc.Http(ls_env["URL"], ls_env["TOKEN"])
        self.checks = Checks()
        self.summary = {"binary": args.binary, "replicas": 3}
        self.workdir = tempfile.mkdtemp(prefix="loopdeck-replicas-")
        self.replicas, self.lb, self.store = [], None, None
        self.projects = []

    # -- infrastructure --
    def start_cluster(self, db_name):
        url = pg_fixture.create_database(self.pg_psql, self.pg_url, db_name)
        self.store = Store(self.pg_psql, url)
        ports = [lc.free_port() for _ in range(3)]
        self.replicas = [Replica(self.args.binary, f"r{i + 1}", p, self.workdir, url, self.ls_env["URL"], self.ls_env["TOKEN"],
                                 store_via_env=(i == 2))  # r3 gets the store from LOOPDECK_STORE
                         for i, p in enumerate(ports)]
        for r in self.replicas:
            r.spawn()
        for r in self.replicas:
            r.wait_up()
        self.lb = haproxy_fixture.Haproxy(ports, names=[r.name for r in self.replicas]).start()
        t = self.lb.wait_status({r.name: "UP" for r in self.replicas}, timeout=60)
        log(f"3 replicas UP in HAProxy after {t:.1f}s; store {db_name}")

    def stop_cluster(self):
        for r in self.replicas:
            r.stop()
        if self.lb:
            self.lb.stop()
            self.lb = None

    def replica_by_claim(self, claim_name):
        for r in self.replicas:
            if claim_name == r.name or claim_name.endswith(f":{r.port}"):
                return r
        return None

    def post_settings_everywhere(self, key, settings):
        """The same settings to every live replica directly (whether a replica sees another's
        settings through the store is not what this suite checks); at least one must take them."""
        answers = {}
        for r in self.replicas:
            if r.alive:
                st, body = r.call("POST", f"/loop/settings?project={key}", settings)
                answers[r.name] = st if st == 200 else f"{st} {str(body)[:200]}"
        self.summary.setdefault("settings_answers", []).append(answers)
        if not any(v == 200 for v in answers.values()):
            raise RuntimeError(f"/loop/settings refused everywhere: {answers}")

    def wait_project_key(self, pid, timeout=300):
        return lc.wait_for(lambda: self.store.key(pid), timeout, step=0.5, what=f"project {pid} in loop_project")

    def wait_synced(self, pid, n_annotations, timeout):
        """The store holds n annotations of the project and some replica finished a full sync."""
        key = self.wait_project_key(pid, timeout)
        lc.wait_for(lambda: self.store.annotation_count(pid) >= n_annotations, timeout, step=0.5,
                    what=f"{n_annotations} annotations of project {pid} in ls_annotation")
        lc.wait_for(lambda: any((r.status(key) or {}).get("last_full_reconcile") for r in self.replicas if r.alive),
                    timeout, step=0.5, what="a full reconcile of the project")
        return key

    # -- case a --
    def case_a(self):
        case = "a"
        texts = make_texts(100, 400, seed=1)
        pid, ids = lc.create_project(self.ls, f"replicas a {int(time.time())}", [t for t, _ in texts])
        self.projects.append(pid)
        self.pid_a, self.ids_a, self.texts_a = pid, ids, texts
        self.summary["webhook_made_by_suite_a"] = connect_project(self.ls, pid, self.lb.url)
        key = self.wait_synced(pid, 0, 300)
        self.key_a = key
        self.post_settings_everywhere(key, {"train_every": 20, "cooldown_seconds": 0, "activation_margin": 1.0,
                                            "refresh_predictions": False, "min_examples": 10})
        setups = {r.name: r.setup_version(key) for r in self.replicas}
        self.checks.check(case, "before any annotation every replica's /setup reports loopdeck-v0",
                          all(v == "loopdeck-v0" for v in setups.values()), json.dumps(setups))
        # Two rounds of 20: each crosses the threshold once. (40 in one go could leave the second
        # trigger one short: the first run counts the annotations that arrived while it started.)
        for rnd, (lo, hi) in enumerate(((0, 20), (20, 40)), start=1):
            for k in range(lo, hi):
                lc.annotate(self.ls, ids[k], texts[k][1])
            t_posted = time.monotonic()
            want = f"loopdeck-v{rnd}"
            first, seen = None, {}
            end = time.monotonic() + self.args.train_timeout
            while time.monotonic() < end and len(seen) < len(self.replicas):
                for r in self.replicas:
                    if r.name not in seen and r.setup_version(key) == want:
                        now = time.monotonic()
                        seen[r.name] = now
                        seen_epoch = time.time()
                        first = first or now
                time.sleep(0.02)
            all_at = max(seen.values()) if len(seen) == len(self.replicas) else None
            self.checks.check(case, f"every replica's /setup reports {want} after {hi} annotations", all_at is not None,
                              f"reported by {sorted(seen)} within {self.args.train_timeout}s of annotation {hi}")
            if all_at is None:
                break
            spread = all_at - first
            self.summary[f"a_v{rnd}_after_last_annotation_s"] = round(first - t_posted, 3)
            self.summary[f"a_v{rnd}_propagation_s"] = round(spread, 3)
            self.checks.check(case, f"{want} on all replicas within {self.args.propagate_limit}s of the first",
                              spread <= self.args.propagate_limit, f"{spread:.3f}s")
            # From the version's row (its `created`, written by the replica that trained it; same
            # machine, same clock) to the last replica answering with it.
            created = next((v["created"] for v in self.store.versions(pid) if v["version"] == rnd), None)
            since_created = seen_epoch - created / 1000.0 if created else None
            self.summary[f"a_v{rnd}_created_to_all_s"] = round(since_created, 3) if since_created is not None else None
            self.checks.check(case, f"{want} on all replicas within {self.args.propagate_limit}s of its loop_version row",
                              since_created is not None and since_created <= self.args.propagate_limit,
                              f"{since_created:.3f}s" if since_created is not None else f"no loop_version row {rnd}")
            self.wait_quiet(pid, 60)
            trained = [r for r in self.store.runs(pid) if r["outcome"] == "trained"]
            self.checks.check(case, f"{rnd} trained run(s) after round {rnd}", len(trained) == rnd,
                              json.dumps([{k: r[k] for k in ("run_no", "trigger_kind", "version")} for r in trained]))
        self.summary["a_propagation_s"] = max(self.summary.get("a_v1_created_to_all_s") or 0, self.summary.get("a_v2_created_to_all_s") or 0)
        time.sleep(1.0)  # a duplicate run would show up now
        versions = self.store.versions(pid)
        runs = self.store.runs(pid)
        trained = [r for r in runs if r["outcome"] == "trained"]
        self.summary["a_versions"] = [v["version"] for v in versions]
        self.summary["a_runs"] = [{k: r[k] for k in ("run_no", "trigger_kind", "outcome", "version")} for r in runs]
        self.checks.check(case, "exactly 2 versions in loop_version", [v["version"] for v in versions] == [1, 2],
                          json.dumps([v["version"] for v in versions]))
        self.checks.check(case, "exactly 2 runs, both trained, versions 1 and 2 (one per trigger, no duplicates)",
                          len(runs) == 2 and sorted(r["version"] for r in trained) == [1, 2], json.dumps(self.summary["a_runs"]))
        overlap = self.store.overlapping_runs(pid)
        self.checks.check(case, "no two runs overlap in time", not overlap, json.dumps(overlap))
        claims = self.store.claims(pid)
        self.checks.check(case, "no loop_claim row left", not claims, json.dumps(claims))
        files = self.store.model_files(pid)
        self.checks.check(case, "model_file rows for versions 1 and 2 with matching sha256",
                          sorted({f["version"] for f in files}) == [1, 2] and all(f["sha256"] == f["actual"] and f["bytes"] > 0 for f in files),
                          json.dumps([{k: f[k] for k in ("version", "target", "bytes")} for f in files]))
        self.checks.check(case, "model_active names version 2", self.store.active_versions(pid) == [2],
                          json.dumps(self.store.active_versions(pid)))
        diffs, n, waited = wait_store_equal(self.store, self.ls, pid, 60)
        self.summary["a_store_equal_after_s"] = round(waited, 2)
        self.checks.check(case, f"store equals Label Studio ({n} annotations)", not diffs and n == 40,
                          "; ".join(diffs[:5]) + (f" (+{len(diffs) - 5} more)" if len(diffs) > 5 else ""))

    # -- case b --
    def case_b(self):
        case = "b"
        key, pid, ids, texts = self.key_a, self.pid_a, self.ids_a, self.texts_a
        victim = self.replicas[0]
        stop = threading.Event()
        stats = {"ok": 0, "failed": 0, "errors": {}}
        lock = threading.Lock()

        def predictor(seed):
            rnd = random.Random(seed)
            while not stop.is_set():
                k = rnd.randrange(len(ids))
                body = {"project": key, "label_config": LABEL_CONFIG, "tasks": [{"id": ids[k], "data": {"text": texts[k][0]}}]}
                try:
                    st, ans = http("POST", self.lb.url + "/predict", body, timeout=30)
                    good = (st == 200 and isinstance(ans, dict) and len(ans.get("results") or []) == 1
                            and str(ans["results"][0].get("model_version", "")).startswith("loopdeck-v"))
                    why = None if good else f"{st} {str(ans)[:120]}"
                except Exception as e:  # noqa: BLE001 - every failure counts
                    why = type(e).__name__ + ": " + str(e)[:120]
                with lock:
                    if why is None:
                        stats["ok"] += 1
                    else:
                        stats["failed"] += 1
                        stats["errors"][why] = stats["errors"].get(why, 0) + 1

        annotated = []

        def annotator():
            for k in range(40, 70):
                lc.annotate(self.ls, ids[k], texts[k][1])
                annotated.append(k)
                time.sleep(0.1)

        before = self.lb.backend_totals()
        threads = [threading.Thread(target=predictor, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        ann = threading.Thread(target=annotator)
        ann.start()
        time.sleep(2.0)
        t_kill = time.monotonic()
        victim.kill9()
        log(f"killed -9 {victim.name} (:{victim.port})")
        down = self.lb.wait_status({victim.name: "DOWN"}, timeout=30)
        time.sleep(3.0)
        ann.join(300)
        stop.set()
        for t in threads:
            t.join(60)
        after = self.lb.backend_totals()
        self.summary["b_predicts_ok"] = stats["ok"]
        self.summary["b_failed_predicts"] = stats["failed"]
        self.summary["b_failed_predict_kinds"] = stats["errors"]
        self.summary["b_haproxy_marked_down_s"] = round(down, 2)
        self.summary["b_haproxy_retries"] = after.get("retries", 0) - before.get("retries", 0)
        self.summary["b_haproxy_redispatches"] = after.get("redispatches", 0) - before.get("redispatches", 0)
        self.checks.check(case, "predicts were answered during the test", stats["ok"] > 50, f"{stats['ok']} ok")
        self.checks.check(case, f"failed /predict <= {self.args.max_failed_predicts}", stats["failed"] <= self.args.max_failed_predicts,
                          f"{stats['failed']} failed of {stats['ok'] + stats['failed']}: {json.dumps(stats['errors'])[:300]}")
        self.checks.check(case, "the annotator posted all 30 annotations", len(annotated) == 30, f"{len(annotated)}")
        diffs, n, waited = wait_store_equal(self.store, self.ls, pid, self.args.lost_timeout)
        self.summary["b_store_equal_after_s"] = round(waited, 2)
        self.checks.check(case, f"no annotation lost: store equals Label Studio ({n} annotations)", not diffs and n == 70,
                          "; ".join(diffs[:5]) + (f" (+{len(diffs) - 5} more)" if len(diffs) > 5 else ""))
        self.wait_quiet(pid, 180)
        self.check_runs_consistent(case, pid)

    def wait_quiet(self, pid, timeout):
        """No claim and no queued/training state on the live replicas."""
        def quiet():
            if self.store.claims(pid):
                return False
            key = self.store.key(pid)
            return all((r.status(key) or {}).get("state") == "idle" for r in self.replicas if r.alive)
        try:
            lc.wait_for(quiet, timeout, step=0.5, what="the loop to be idle")
        except RuntimeError as e:
            log(str(e))

    def check_runs_consistent(self, case, pid):
        runs = self.store.runs(pid)
        versions = [v["version"] for v in self.store.versions(pid)]
        trained = [r["version"] for r in runs if r["outcome"] == "trained"]
        self.checks.check(case, "one trained run per version, no version twice",
                          sorted(trained) == sorted(versions) and len(set(trained)) == len(trained),
                          f"trained runs' versions {trained}, loop_version {versions}")
        overlap = self.store.overlapping_runs(pid)
        self.checks.check(case, "no two runs overlap in time", not overlap, json.dumps(overlap))

    # -- case d --
    def case_d(self, case, replica, pid, strict_503):
        key = self.store.key(pid)
        active = self.store.active_versions(pid)
        want = f"loopdeck-v{max(active)}" if active else None
        replica.spawn()
        t0 = time.monotonic()
        seq, first_200, problems = [], None, []
        end = t0 + self.args.ready_timeout
        while time.monotonic() < end:
            if not replica.alive:
                problems.append(f"exited with {replica.proc.returncode}")
                break
            try:
                st, body = http("GET", replica.url + "/ready", timeout=5)
            except OSError:
                st, body = None, None
            if st is not None and (not seq or seq[-1][0] != st):
                seq.append((st, round(time.monotonic() - t0, 3), body))
            if st == 503:
                if not (isinstance(body, dict) and body.get("ready") is False and isinstance(body.get("why"), str)):
                    problems.append(f"503 body is not {{\"ready\":false,\"why\":...}}: {str(body)[:200]}")
            elif st == 200:
                first_200 = time.monotonic() - t0
                if not (isinstance(body, dict) and body.get("ready") is True):
                    problems.append(f"200 body is not {{\"ready\":true,...}}: {str(body)[:200]}")
                replica.wait_up(10)
                got = replica.setup_version(key)
                if want and got != want:
                    problems.append(f"/ready said 200 but /setup reports {got}, the active version is {want}")
                break
            elif st is not None:
                problems.append(f"/ready answered {st}")
            time.sleep(0.01)
        saw_503 = any(s[0] == 503 for s in seq)
        self.summary[f"{case}_ready_sequence"] = [[s[0], s[1]] for s in seq]
        self.summary[f"{case}_ready_after_s"] = round(first_200, 3) if first_200 is not None else None
        self.summary[f"{case}_active_model"] = want
        self.checks.check(case, f"restarted {replica.name} answers /ready 200 within {self.args.ready_timeout}s",
                          first_200 is not None, json.dumps(self.summary[f"{case}_ready_sequence"]))
        self.checks.check(case, "/ready bodies and the version behind the first 200 are right", not problems, "; ".join(problems))
        if strict_503 and not self.args.ready_503_optional:
            self.checks.check(case, "/ready said 503 before it said 200 (the active model had to be loaded first)", saw_503,
                              json.dumps(self.summary[f"{case}_ready_sequence"]))
        else:
            log(f"[{case}] /ready 503 seen before 200: {saw_503} (not required here)")
        if first_200 is not None:
            t = self.lb.wait_status({replica.name: "UP"}, timeout=30)
            self.summary[f"{case}_haproxy_up_s"] = round(first_200 + t, 2)
            self.checks.check(case, f"HAProxy puts {replica.name} back in rotation", True, f"{t:.2f}s after its first 200")

    # -- case c --
    def case_c(self):
        """c1: the first training of a big project is claimed while the replicas are still syncing
        it: kill the claimant. c2: once the store holds the whole project, 20 more annotations make
        a training over all of it: kill that claimant too. Both runs must end on a survivor."""
        case = "c"
        n, chars = self.args.takeover_tasks, self.args.text_chars
        texts = make_texts(n + 40, chars, seed=3)
        st, p = self.ls.call("POST", "/api/projects/", {"title": f"replicas c {int(time.time())}", "label_config": LABEL_CONFIG})
        if st >= 300:
            raise RuntimeError(f"project: {st} {p}")
        pid = p["id"]
        self.projects.append(pid)
        t_import = time.monotonic()
        ids = []
        for i in range(0, n + 40, 1000):
            batch = [{"data": {"text": t}, "annotations": [{"result": choice_result(label)}]} if i + j < n else {"data": {"text": t}}
                     for j, (t, label) in enumerate(texts[i:i + 1000])]
            st, r = lc.call_retrying(self.ls, "POST", f"/api/projects/{pid}/import?return_task_ids=true", batch)
            if st >= 300:
                raise RuntimeError(f"import: {st} {str(r)[:300]}")
            ids += r["task_ids"]
        self.summary["c_tasks"] = n
        self.summary["c_text_chars"] = chars
        self.summary["c_import_s"] = round(time.monotonic() - t_import, 1)
        log(f"[c] imported {n} annotated tasks (+40 without) in {self.summary['c_import_s']}s; connecting the backend")
        self.summary["webhook_made_by_suite_c"] = connect_project(self.ls, pid, self.lb.url)
        t_connect = time.monotonic()
        # c1: the full sync brings n annotations, above train_every: the loop trains while syncing.
        victim = self.kill_claimant("c1", pid, t_connect, self.args.train_timeout)
        t0 = time.monotonic()
        diffs, n_ls, waited = wait_store_equal(self.store, self.ls, pid, self.args.sync_timeout)
        self.summary["c_store_complete_after_connect_s"] = round(time.monotonic() - t_connect, 1)
        self.checks.check(case, f"store equals Label Studio ({n_ls} annotations) within {self.args.sync_timeout}s",
                          not diffs and n_ls == n,
                          f"after {time.monotonic() - t0:.0f}s: " + "; ".join(diffs[:3]) + (f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""))
        if diffs:
            return victim, pid
        # c2: a training over the whole project, with c1's victim back (fresh data dir) so that two
        # survivors are left when c2's claimant dies.
        if victim is not None:
            victim.spawn().wait_up()
            self.lb.wait_status({victim.name: "UP"}, timeout=self.args.ready_timeout)
        self.wait_quiet(pid, self.args.train_timeout)
        key = self.store.key(pid)
        self.post_settings_everywhere(key, {"cooldown_seconds": 0})
        for k in range(n, n + 20):
            lc.annotate(self.ls, ids[k], texts[k][1])
        victim2 = self.kill_claimant("c2", pid, time.monotonic(), self.args.train_timeout)
        versions = self.store.versions(pid)
        if versions:
            self.summary["c2_examples_of_last_version"] = versions[-1]["examples"]
            self.checks.check("c2", "the taken-over run trained on the whole project", versions[-1]["examples"] >= n,
                              f"{versions[-1]['examples']} examples, {n + 20} annotations")
        self.check_runs_consistent(case, pid)
        diffs, n_ls, waited = wait_store_equal(self.store, self.ls, pid, self.args.lost_timeout)
        self.checks.check(case, f"store equals Label Studio at the end ({n_ls} annotations)", not diffs and n_ls == n + 20,
                          "; ".join(diffs[:3]) + (f" (+{len(diffs) - 3} more)" if len(diffs) > 3 else ""))
        return victim2 or victim, pid

    def kill_claimant(self, case, pid, t_from, arm_timeout):
        """Waits for a loop_claim row of the project, kills -9 the replica it names, and checks that
        a survivor finishes the run. Returns the killed replica (None when nothing was claimed)."""
        before = len(self.store.versions(pid))
        claim, end = None, time.monotonic() + arm_timeout
        while time.monotonic() < end:
            claims = self.store.claims(pid)
            if claims:
                claim = claims[0]
                break
            if len(self.store.versions(pid)) > before:
                break
            time.sleep(0.02)
        if not self.checks.check(case, "a training was claimed (loop_claim row)", claim is not None,
                                 f"versions now {[v['version'] for v in self.store.versions(pid)]}"):
            return None
        victim = self.replica_by_claim(claim["replica"])
        if not self.checks.check(case, "loop_claim.replica names a running replica (host:port)",
                                 victim is not None and victim.alive, f"replica={claim['replica']!r}"):
            return None
        t_claim = time.monotonic()
        victim.kill9()
        t_kill, kill_ms = time.monotonic(), epoch_ms()
        in_store = self.store.annotation_count(pid)
        log(f"[{case}] killed -9 {victim.name} (claim {claim['replica']}, {t_kill - t_from:.1f}s after the trigger's cause, "
            f"{in_store} annotations in the store)")
        self.summary[f"{case}_claimed_after_s"] = round(t_claim - t_from, 2)
        self.summary[f"{case}_annotations_in_store_at_kill"] = in_store
        done_before = [v for v in self.store.versions(pid)[before:] if v["created"] <= kill_ms]
        self.checks.check(case, "the run had not finished when its replica was killed", not done_before,
                          f"versions created before the kill: {done_before} (make the run longer: --takeover-tasks/--text-chars)")
        t_new_claim = t_version = None
        end = t_kill + self.args.takeover_timeout
        while time.monotonic() < end:
            claims = self.store.claims(pid)
            if t_new_claim is None and any(c["replica"] != claim["replica"] for c in claims):
                t_new_claim = time.monotonic()
            if t_version is None and len(self.store.versions(pid)) > before:
                t_version = time.monotonic()
            if t_version is not None and not claims:
                break
            time.sleep(0.05)
        self.summary[f"{case}_takeover_claim_s"] = round(t_new_claim - t_kill, 2) if t_new_claim else None
        self.summary[f"{case}_takeover_version_s"] = round(t_version - t_kill, 2) if t_version else None
        self.checks.check(case, "a survivor claimed the run", t_new_claim is not None or t_version is not None,
                          f"claim after {self.summary[f'{case}_takeover_claim_s']}s")
        self.checks.check(case, f"a new version within {self.args.takeover_timeout}s of the kill", t_version is not None,
                          f"after {self.summary[f'{case}_takeover_version_s']}s")
        claims = self.store.claims(pid)
        self.checks.check(case, "loop_claim is empty afterwards", not claims, json.dumps(claims))
        versions = self.store.versions(pid)
        runs = self.store.runs(pid)
        self.summary[f"{case}_runs"] = [{k: r[k] for k in ("run_no", "trigger_kind", "outcome", "version")} for r in runs]
        self.checks.check(case, "loop_run shows a trained run for the new version",
                          any(r["outcome"] == "trained" and r["version"] == v["version"] for r in runs for v in versions[before:]),
                          json.dumps(self.summary[f"{case}_runs"]))
        files = [f for f in self.store.model_files(pid) if f["version"] > before]
        self.checks.check(case, "the new version's model_file is complete (sha256 of body matches)",
                          bool(files) and all(f["sha256"] == f["actual"] and f["bytes"] > 0 for f in files),
                          json.dumps([{k: f[k] for k in ("version", "target", "bytes")} for f in files]))
        if len(versions) > before:
            want = f"loopdeck-v{max(self.store.active_versions(pid) or [0])}"
            key = self.store.key(pid)
            end = time.monotonic() + self.args.propagate_limit + 3
            got = {}
            while time.monotonic() < end:
                got = {r.name: r.setup_version(key) for r in self.replicas if r.alive}
                if all(v == want for v in got.values()):
                    break
                time.sleep(0.1)
            self.checks.check(case, f"every survivor's /setup reports {want}", all(v == want for v in got.values()), json.dumps(got))
        return victim

    # -- all --
    def run(self, cases):
        try:
            self.start_cluster("replicas_suite")
            if "a" in cases or "b" in cases or "d" in cases:
                self.run_case("a", self.case_a)
            if "b" in cases:
                self.run_case("b", self.case_b)
                if "d" in cases:
                    self.run_case("d1", lambda: self.case_d("d1", self.replicas[0], self.pid_a, strict_503=False))
            if "c" in cases:
                out = self.run_case("c", self.case_c)
                if out and "d" in cases:
                    victim, pid = out
                    self.run_case("d2", lambda: self.case_d("d2", victim, pid, strict_503=True))
        finally:
            self.finish()

    def run_case(self, name, fn):
        t0 = time.monotonic()
        log(f"---- case {name}")
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            self.checks.check(name, "ran to the end", False, f"{type(e).__name__}: {e}")
            traceback.print_exc()
            for r in self.replicas:
                if r.proc:
                    log(f"{r.name} log tail:\n{r.log_tail(1500)}")
            return None
        finally:
            self.summary[f"{name}_seconds"] = round(time.monotonic() - t0, 1)

    def finish(self):
        if self.lb:
            self.summary["haproxy_final"] = self.lb.states()
        self.stop_cluster()
        if not self.args.keep:
            for pid in self.projects:
                self.ls.call("DELETE", f"/api/projects/{pid}/")
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            log(f"kept {self.workdir} and Label Studio projects {self.projects}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default=os.environ.get("LOOPDECK_BINARY"))
    ap.add_argument("--ls-env", default=os.environ.get("LOOPDECK_LS_ENV"))
    ap.add_argument("--pg-env", default=os.environ.get("LOOPDECK_PG_ENV"))
    ap.add_argument("--cases", default="a,b,c,d")
    ap.add_argument("--summary", help="also write the JSON summary here")
    ap.add_argument("--propagate-limit", type=float, default=2.0)
    ap.add_argument("--max-failed-predicts", type=int, default=2)
    ap.add_argument("--takeover-tasks", type=int, default=20000)
    ap.add_argument("--text-chars", type=int, default=1200)
    ap.add_argument("--train-timeout", type=float, default=300)
    ap.add_argument("--takeover-timeout", type=float, default=600)
    ap.add_argument("--lost-timeout", type=float, default=120)
    ap.add_argument("--sync-timeout", type=float, default=900, help="for the big project's first full sync")
    ap.add_argument("--ready-timeout", type=float, default=300)
    ap.add_argument("--ready-503-optional", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work dir and the Label Studio projects")
    args = ap.parse_args()
    if not args.binary or not os.access(args.binary, os.X_OK):
        sys.exit(f"replica_suite: no loopdeck binary (--binary or LOOPDECK_BINARY): {args.binary}")
    if not binary_has_store(args.binary):
        if os.environ.get("LOOPDECK_REPLICAS_REQUIRE") == "1":
            sys.exit(f"replica_suite: {args.binary} has no `serve --store` (LOOPDECK_REPLICAS_REQUIRE=1)")
        print(f"replica_suite: SKIP: {args.binary} has no `serve --store` yet")
        sys.exit(SKIP)
    if not args.ls_env or not os.path.exists(args.ls_env):
        sys.exit(f"replica_suite: no Label Studio env file (--ls-env or LOOPDECK_LS_ENV; the LS fixture writes it): {args.ls_env}")
    ls_env = lc.read_env(args.ls_env)
    cases = set(c.strip() for c in args.cases.split(",") if c.strip())
    own_pg = None
    if args.pg_env and os.path.exists(args.pg_env):
        pg_env = pg_fixture.read_env(args.pg_env)
        psql, url = pg_env["PSQL"], pg_env["URL"]
    else:
        own_pg = pg_fixture.PgServer().start()
        psql, url = own_pg.psql, own_pg.url
    t0 = time.monotonic()
    try:
        suite = Suite(args, psql, url, ls_env)
        suite.run(cases)
    finally:
        if own_pg:
            own_pg.stop()
    suite.summary["seconds"] = round(time.monotonic() - t0, 1)
    suite.summary["checks"] = len(suite.checks.items)
    suite.summary["failed_checks"] = [f"[{c['case']}] {c['check']}: {c['detail']}" for c in suite.checks.failed]
    text = json.dumps(suite.summary, indent=2, sort_keys=True)
    print("SUMMARY " + text)
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    sys.exit(1 if suite.checks.failed else 0)


if __name__ == "__main__":
    main()
