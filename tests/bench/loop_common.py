"""Shared pieces of the loop benchmarks (loop_latency.py, labels_saved.py, swap_under_load.py):
a small HTTP client for Label Studio and LoopDeck, the SpamAssassin texts, starting and stopping
`loopdeck serve`, and creating a Label Studio project with the backend registered.
Standard library only (the seed recipe in loop_latency.py also needs python3-sklearn).
"""
import json
import os
import random
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

LABEL_CONFIG = ('<View><Text name="text" value="$text"/><Choices name="label" toName="text" choice="single">'
                '<Choice value="ham"/><Choice value="spam"/></Choices></View>')
TEXT_CHARS = 3000  # mails are cut to this many characters everywhere (Label Studio, LoopDeck, recipe)


def read_env(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            values[key] = value
    return values


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Http:
    """Label Studio (scheme "Token") or a LoopDeck backend with its operator token ("Bearer")."""

    def __init__(self, base, token=None, scheme="Token"):
        self.base = base.rstrip("/")
        self.token = token
        self.scheme = scheme

    def call(self, method, path, body=None, timeout=600, raw=False):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.base + path, data=data, method=method)
        r.add_header("Content-Type", "application/json")
        if self.token:
            r.add_header("Authorization", self.scheme + " " + self.token)
        try:
            with urllib.request.urlopen(r, timeout=timeout) as resp:
                text = resp.read()
                if raw:
                    return resp.status, text
                return resp.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")[:2000]


def load_spam(data_dir):
    """All SpamAssassin mails (train + test split of prepare_spam.py), texts cut to TEXT_CHARS."""
    rows = []
    for name in ("train.jsonl", "test.jsonl"):
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    rows.append({"text": r["text"][:TEXT_CHARS], "label": r["label"], "split": name[:-6]})
    return rows


def spam_passages(data_dir, limit=300, shortest=30):
    """More texts than there are mails (for the 50,000-annotation run): every SpamAssassin mail (whole,
    not cut) split into passages of at most `limit` characters at sentence ends (longer sentences
    are cut), whitespace collapsed, at least `shortest` characters, each text once, labelled with its
    mail's label. About 72,000 passages (mean 190 characters)."""
    rows, seen = [], set()
    for name in ("train.jsonl", "test.jsonl"):
        with open(os.path.join(data_dir, name), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                for text in _passages(r["text"], limit):
                    if len(text) >= shortest and text not in seen:
                        seen.add(text)
                        rows.append({"text": text, "label": r["label"], "split": name[:-6]})
    return rows


def _passages(text, limit):
    for paragraph in re.split(r"\n\s*\n", text):
        current = ""
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(paragraph.split())):
            while len(sentence) > limit:
                if current:
                    yield current
                    current = ""
                yield sentence[:limit]
                sentence = sentence[limit:]
            if len(current) + len(sentence) + 1 > limit:
                if current:
                    yield current
                current = sentence
            else:
                current = (current + " " + sentence).strip()
        if current:
            yield current


def group_cpu_seconds(pgid):
    """CPU seconds (user + system) used so far by the live processes of process group pgid."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, ..., utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    mem = next((int(l.split()[1]) // 1024 // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    load = os.getloadavg()[0]
    return f"{cpu}, {os.cpu_count()} cores, {mem} GiB, Debian 12; 1-minute load average {load:.1f} at the end of the run (other jobs share the machine)"


class Loopdeck:
    """`loopdeck serve` with the loop on, in its own data dir."""

    def __init__(self, binary, data_dir, ls_url=None, token=None, train_every=None, extra=(), log_path=None, port=None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = {}  # Label Studio project id -> the loop's key for it
        args = [binary, "serve", "--port", str(self.port), "--data-dir", data_dir, "--log-level", "info"]
        if ls_url:
            args += ["--label-studio", ls_url]
        if train_every is not None:
            args += ["--train-every", str(train_every)]
        args += list(extra)
        env = dict(os.environ)
        if token:
            env["LOOPDECK_TOKEN"] = token
        self.log_path = log_path or os.path.join(data_dir, "serve.log")
        os.makedirs(data_dir, exist_ok=True)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=self.log)
        self.http = Http(self.url)
        for _ in range(300):
            try:
                if self.http.call("GET", "/health", timeout=2)[0] == 200:
                    # /loop/* and the /versions details need the operator token serve made.
                    with open(os.path.join(data_dir, "operator-token"), encoding="ascii") as f:
                        self.http = Http(self.url, f.read().strip(), scheme="Bearer")
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("loopdeck serve did not come up; see " + self.log_path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def setup_version(self, project):
        # Label Studio names a project to a backend "<id>.<created_at>"; the loop knows the key
        # from its sync (a made-up key would be another project).
        key = self.keys.get(project)
        if key is None:
            st = self.status(project)
            key = st["project"] if st and st.get("project") else str(project)
            if st and st.get("project"):
                self.keys[project] = key
        st, body = self.http.call("POST", "/setup", {"project": key, "schema": LABEL_CONFIG})
        return body.get("model_version") if st == 200 and isinstance(body, dict) else None

    def status(self, project):
        st, body = self.http.call("GET", f"/loop/status?project={project}")
        return body if st == 200 else None


def create_project(ls, title, texts, chunk=1000):
    """A project with the spam/ham config and one task per text; returns (project id, task ids)."""
    st, p = ls.call("POST", "/api/projects/", {"title": title, "label_config": LABEL_CONFIG})
    if st >= 300:
        raise RuntimeError(f"project: {st} {p}")
    pid = p["id"]
    ids = []
    for i in range(0, len(texts), chunk):
        st, r = ls.call("POST", f"/api/projects/{pid}/import?return_task_ids=true",
                        [{"text": t} for t in texts[i:i + chunk]])
        if st >= 300:
            raise RuntimeError(f"import: {st} {r}")
        ids += r["task_ids"]
    return pid, ids


def register_backend(ls, pid, backend_url):
    st, ml = ls.call("POST", "/api/ml", {"url": backend_url, "project": pid, "title": "LoopDeck"})
    if st >= 300:
        raise RuntimeError(f"register backend: {st} {ml}")
    st, hooks = ls.call("GET", f"/api/webhooks/?project={pid}")
    urls = [h.get("url") for h in hooks] if st == 200 else []
    if not any(u and u.startswith(backend_url) for u in urls):
        raise RuntimeError(f"Label Studio did not create the backend's webhook: {urls}")
    return ml["id"]


RETRIES = {"count": 0}


def call_retrying(ls, method, path, body=None):
    """Label Studio on SQLite answers 500 "database is locked" when two writes collide (e.g. a
    prediction import and /next's task lock); an annotator's browser would simply try again."""
    for attempt in range(10):
        st, body_out = ls.call(method, path, body)
        if st != 500:
            return st, body_out
        RETRIES["count"] += 1
        time.sleep(0.5)
    return st, body_out


def annotate(ls, task_id, label):
    result = [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]
    st, a = call_retrying(ls, "POST", f"/api/tasks/{task_id}/annotations/", {"result": result, "lead_time": 1.0})
    if st >= 300:
        raise RuntimeError(f"annotation on task {task_id}: {st} {a}")
    return a


def wait_for(predicate, timeout, step=0.05, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def shuffled(rows, seed):
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    return rows
