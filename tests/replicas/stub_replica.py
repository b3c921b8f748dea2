#!/usr/bin/env python3
"""NOT LoopDeck: a small stand-in for `loopdeck serve --store postgresql://...` that follows the
replica contract the suite checks, so that replica_suite.py itself can be tried end to end before
the real binary has --store (and so that a suite change can be tried without a build):

    replica_suite.py --binary tests/replicas/stub_replica.py --ls-env ... [--pg-env ...]

It trains nothing real: a "training" sleeps in proportion to the examples and writes a version,
its run, a model_file (random bytes with their sha256) and model_active, under a loop_claim row;
a claim whose replica (host:port) no longer answers is taken over. Webhooks and a full sync from
Label Studio's export fill ls_annotation. /ready is 503 until the active model files were read
(a pause per megabyte, so a big model shows it). One psql per statement (no Python driver).

STUB_FAULT (comma-separated) breaks it on purpose, to see the suite's checks fail:
  double       train without a claim (every replica that sees the threshold trains)
  slowpoll     look for new active versions every 3 s (propagation too slow)
  readyearly   answer /ready 200 before the models are loaded
  notakeover   never take over a dead replica's claim
  dropwebhook  ignore every 7th annotation webhook (annotations lost until a full sync)
"""
import datetime
import hashlib
import http.server
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

FAULTS = set(filter(None, os.environ.get("STUB_FAULT", "").split(",")))

SCHEMA = """
SELECT pg_advisory_lock(4242);
CREATE TABLE IF NOT EXISTS ls_annotation (project_key TEXT NOT NULL, annotation_id BIGINT NOT NULL, task_id BIGINT NOT NULL,
  result TEXT NOT NULL, cancelled INTEGER NOT NULL, ground_truth INTEGER NOT NULL DEFAULT 0, updated_at BIGINT NOT NULL DEFAULT 0,
  change_seq BIGINT NOT NULL DEFAULT 0, seen_at BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (project_key, annotation_id));
CREATE TABLE IF NOT EXISTS loop_project (project_key TEXT PRIMARY KEY, change_seq BIGINT NOT NULL DEFAULT 0,
  trained_seq BIGINT NOT NULL DEFAULT 0, settings TEXT NOT NULL DEFAULT '{}', last_full_sync BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS loop_version (project_key TEXT NOT NULL, version INTEGER NOT NULL, created BIGINT NOT NULL,
  trigger_kind TEXT NOT NULL, examples INTEGER NOT NULL, metrics TEXT NOT NULL, PRIMARY KEY (project_key, version));
CREATE TABLE IF NOT EXISTS loop_run (project_key TEXT NOT NULL, run_no INTEGER NOT NULL, trigger_kind TEXT NOT NULL,
  started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL, outcome TEXT NOT NULL, version INTEGER NOT NULL, message TEXT NOT NULL,
  PRIMARY KEY (project_key, run_no));
CREATE TABLE IF NOT EXISTS model_file (project_key TEXT NOT NULL, version INTEGER NOT NULL, target TEXT NOT NULL,
  sha256 TEXT NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (project_key, version, target));
CREATE TABLE IF NOT EXISTS model_active (project_key TEXT NOT NULL, target TEXT NOT NULL, version INTEGER NOT NULL,
  PRIMARY KEY (project_key, target));
CREATE TABLE IF NOT EXISTS loop_claim (project_key TEXT PRIMARY KEY, replica TEXT NOT NULL, trigger_kind TEXT NOT NULL,
  started_at BIGINT NOT NULL);
SELECT pg_advisory_unlock(4242);
"""


def now_ms():
    return int(time.time() * 1000)


def q(text):
    tag = "$s" + secrets.token_hex(4) + "$"
    return tag + text + tag


class Db:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.env = dict(os.environ, PGPASSWORD=urllib.parse.unquote(u.password or ""))
        self.args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", u.hostname, "-p", str(u.port or 5432),
                     "-U", urllib.parse.unquote(u.username or ""), "-d", u.path.lstrip("/")]
        psql = "/usr/lib/postgresql/15/bin/psql"
        if os.access(psql, os.X_OK):
            self.args[0] = psql

    def run(self, sql):
        r = subprocess.run(self.args + ["-f", "-"], input=sql, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=300)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.strip()[:500])
        return r.stdout

    def rows(self, sql):
        out = self.run(f"SELECT coalesce(json_agg(x), '[]'::json) FROM ({sql}) x;").strip()
        return json.loads(out) if out else []


class Replica:
    def __init__(self, a):
        self.a = a
        self.db = Db(a["store"])
        self.me = f"127.0.0.1:{a['port']}"
        self.ready = "readyearly" in FAULTS
        self.webhooks = 0
        self.loaded = threading.Event()
        self.active = {}        # project key -> version (loaded)
        self.training = set()
        self.lock = threading.Lock()
        self.ls, self.ls_token = a.get("label-studio"), os.environ.get("LOOPDECK_TOKEN", "")

    def log(self, msg):
        print(f"{datetime.datetime.now().isoformat(timespec='milliseconds')} {msg}", file=sys.stderr, flush=True)

    # -- store --
    def load(self):
        total, loaded = 0, {}
        for r in self.db.rows("SELECT a.project_key, a.version, length(f.body) AS n FROM model_active a JOIN model_file f "
                              "USING (project_key, version, target)"):
            total += r["n"]
            loaded[r["project_key"]] = r["version"]
        time.sleep(0.3 + total / 1e6 * 0.5)  # reading and building the models
        self.active.update(loaded)
        self.ready = True
        self.loaded.set()
        self.log(f"ready: {len(self.active)} active models, {total} bytes")

    def poll(self):
        self.loaded.wait()
        while True:
            time.sleep(3.0 if "slowpoll" in FAULTS else 0.25)
            try:
                for r in self.db.rows("SELECT project_key, version FROM model_active"):
                    self.active[r["project_key"]] = r["version"]
                for p in self.db.rows("SELECT project_key, change_seq - trained_seq AS pending, settings FROM loop_project"):
                    every = json.loads(p["settings"] or "{}").get("train_every", self.a["train-every"])
                    if every and p["pending"] >= every:
                        self.maybe_train(p["project_key"], "threshold")
                for c in self.db.rows("SELECT project_key, replica FROM loop_claim"):
                    if c["replica"] != self.me and "notakeover" not in FAULTS and not self.alive(c["replica"]):
                        self.db.run(f"DELETE FROM loop_claim WHERE project_key = {q(c['project_key'])} AND replica = {q(c['replica'])};")
                        self.log(f"claim of dead {c['replica']} on {c['project_key']} released")
                        self.maybe_train(c["project_key"], "takeover")
            except Exception as e:  # noqa: BLE001
                self.log(f"poll: {e}")

    @staticmethod
    def alive(hostport):
        try:
            with urllib.request.urlopen(f"http://{hostport}/health", timeout=1):
                return True
        except Exception:  # noqa: BLE001
            return False

    def maybe_train(self, key, kind):
        with self.lock:
            if key in self.training:
                return
            got = "double" in FAULTS or self.db.run(f"INSERT INTO loop_claim VALUES ({q(key)}, {q(self.me)}, {q(kind)}, "
                                                    f"{now_ms()}) ON CONFLICT DO NOTHING RETURNING replica;").strip()
            if not got:
                return
            self.training.add(key)
        threading.Thread(target=self.train, args=(key, kind), daemon=True).start()

    def train(self, key, kind):
        try:
            started = now_ms()
            p = self.db.rows(f"SELECT change_seq FROM loop_project WHERE project_key = {q(key)}")[0]
            n = int(self.db.run(f"SELECT count(*) FROM ls_annotation WHERE project_key = {q(key)} AND cancelled = 0;").strip())
            time.sleep(0.2 + n * 0.0006)
            body = os.urandom(200 + n * 60)
            self.db.run(f"""BEGIN;
                WITH v AS (SELECT coalesce(max(version), 0) + 1 AS v FROM loop_version WHERE project_key = {q(key)})
                INSERT INTO loop_version SELECT {q(key)}, v, {now_ms()}, {q(kind)}, {n}, '{{}}' FROM v;
                INSERT INTO model_file SELECT {q(key)}, max(version), 'label', '{hashlib.sha256(body).hexdigest()}',
                    '\\x{body.hex()}'::bytea FROM loop_version WHERE project_key = {q(key)};
                INSERT INTO model_active SELECT {q(key)}, 'label', max(version) FROM loop_version WHERE project_key = {q(key)}
                    ON CONFLICT (project_key, target) DO UPDATE SET version = excluded.version;
                INSERT INTO loop_run SELECT {q(key)}, (SELECT coalesce(max(run_no), 0) + 1 FROM loop_run WHERE project_key = {q(key)}),
                    {q(kind)}, {started}, {now_ms()}, 'trained', max(version), '' FROM loop_version WHERE project_key = {q(key)};
                UPDATE loop_project SET trained_seq = {p['change_seq']} WHERE project_key = {q(key)};
                DELETE FROM loop_claim WHERE project_key = {q(key)} AND replica = {q(self.me)};
                COMMIT;""")
            self.log(f"trained {key} on {n} examples")
        except Exception as e:  # noqa: BLE001
            self.log(f"train {key}: {e}")
            self.db.run(f"DELETE FROM loop_claim WHERE project_key = {q(key)} AND replica = {q(self.me)};")
        finally:
            with self.lock:
                self.training.discard(key)

    def learn(self, key):
        new = self.db.run(f"INSERT INTO loop_project (project_key) VALUES ({q(key)}) ON CONFLICT DO NOTHING RETURNING 1;").strip()
        if new:
            threading.Thread(target=self.full_sync, args=(key,), daemon=True).start()

    def full_sync(self, key):
        pid = key.split(".")[0]
        r = urllib.request.Request(f"{self.ls}/api/projects/{pid}/export?exportType=JSON&download_all_tasks=true",
                                   headers={"Authorization": "Token " + self.ls_token})
        with urllib.request.urlopen(r, timeout=600) as resp:
            tasks = json.load(resp)
        rows = [(a["id"], t["id"], json.dumps(a.get("result") or []), int(bool(a.get("was_cancelled"))))
                for t in tasks for a in t.get("annotations") or []]
        for i in range(0, len(rows), 2000):
            self.upsert(key, rows[i:i + 2000])
        self.db.run(f"UPDATE loop_project SET last_full_sync = {now_ms()} WHERE project_key = {q(key)};")
        self.log(f"full sync of {key}: {len(rows)} annotations")

    def upsert(self, key, rows):
        if not rows:
            return
        values = ",".join(f"({q(key)}, {a}, {t}, {q(res)}, {c})" for a, t, res, c in rows)
        self.db.run(f"""BEGIN;
            INSERT INTO ls_annotation (project_key, annotation_id, task_id, result, cancelled) VALUES {values}
              ON CONFLICT (project_key, annotation_id) DO UPDATE SET result = excluded.result, cancelled = excluded.cancelled;
            UPDATE loop_project SET change_seq = change_seq + {len(rows)} WHERE project_key = {q(key)};
            COMMIT;""")


def key_of(project):
    if isinstance(project, dict):
        created = project.get("created_at", "")
        ts = int(datetime.datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()) if created else 0
        return f"{project['id']}.{ts}" if ts else str(project["id"])
    return str(project).split(".")[0] + ("." + str(project).split(".")[1] if "." in str(project) else "")


def handler(rep):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            qs = dict(urllib.parse.parse_qsl(u.query))
            if u.path == "/health":
                return self.send(200, {"status": "UP"})
            if u.path == "/ready":
                return self.send(200, {"ready": True}) if rep.ready else self.send(503, {"ready": False, "why": "loading models"})
            if u.path == "/loop/status":
                key = qs.get("project", "")
                rows = rep.db.rows(f"SELECT * FROM loop_project WHERE project_key = {q(key)} OR split_part(project_key, '.', 1) = {q(key)}")
                if not rows:
                    return self.send(404, {"error": "unknown project"})
                p = rows[0]
                return self.send(200, {"project": p["project_key"], "state": "training" if p["project_key"] in rep.training else "idle",
                                       "last_full_reconcile": p["last_full_sync"] or None, "settings": json.loads(p["settings"])})
            self.send(404, {})

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n) or b"{}")
            u = urllib.parse.urlsplit(self.path)
            if u.path == "/setup":
                key = key_of(body.get("project", ""))
                if "." in key:
                    rep.learn(key)
                return self.send(200, {"model_version": f"loopdeck-v{rep.active.get(key, 0)}"})
            if u.path == "/predict":
                key = key_of(body.get("project", ""))
                v = rep.active.get(key)
                if not v:
                    return self.send(200, {"results": [], "message": "no model"})
                return self.send(200, {"results": [{"model_version": f"loopdeck-v{v}", "score": 0.5, "result": []}
                                                   for _ in body.get("tasks", [])], "model_version": f"loopdeck-v{v}"})
            if u.path == "/webhook":
                if "project" in body and isinstance(body["project"], dict) and body.get("annotation"):
                    key = key_of(body["project"])
                    rep.webhooks += 1
                    if "dropwebhook" in FAULTS and rep.webhooks % 7 == 0:
                        return self.send(200, {})
                    rep.learn(key)
                    a = body["annotation"]
                    task = a.get("task")
                    task = task.get("id") if isinstance(task, dict) else task
                    rep.upsert(key, [(a["id"], task, json.dumps(a.get("result") or []), int(bool(a.get("was_cancelled"))))])
                return self.send(200, {})
            if u.path == "/loop/settings":
                key = dict(urllib.parse.parse_qsl(u.query)).get("project", "")
                rep.db.run(f"UPDATE loop_project SET settings = {q(json.dumps(body))} WHERE project_key = {q(key)};")
                return self.send(200, {"project": key, "settings": body})
            self.send(404, {})
    return H


def main():
    argv = sys.argv[1:]
    if argv[:1] != ["serve"]:
        sys.exit("stub_replica.py serve --port P --data-dir D --store URL --label-studio URL --train-every N")
    if "--help" in argv:
        print("stub: --port --data-dir --store (or LOOPDECK_STORE) --label-studio --train-every --log-level")
        return
    a, i = {"train-every": 20, "store": os.environ.get("LOOPDECK_STORE")}, 1
    while i < len(argv):
        a[argv[i][2:]] = argv[i + 1]
        i += 2
    a["port"], a["train-every"] = int(a["port"]), int(a["train-every"])
    os.makedirs(a["data-dir"], exist_ok=True)
    path = os.path.join(a["data-dir"], "operator-token")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("ldo_" + secrets.token_urlsafe(24) + "\n")
    rep = Replica(a)
    rep.db.run(SCHEMA)

    class S(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass
    server = S(("127.0.0.1", a["port"]), handler(rep))
    threading.Thread(target=rep.load, daemon=True).start()
    threading.Thread(target=rep.poll, daemon=True).start()
    rep.log(f"stub replica on {rep.me}")
    server.serve_forever()


if __name__ == "__main__":
    main()
