#!/usr/bin/env python3
"""Starts and stops the one real Label Studio that a ctest run shares (fixture LS).

    labelstudio_fixture.py start ENV_FILE LABEL_STUDIO_BIN
    labelstudio_fixture.py stop ENV_FILE

`start` picks a free loopback port and a temporary data dir, starts Label Studio with a preset
user and legacy token, waits for /health, and writes KEY=VALUE lines (URL, TOKEN, USERNAME,
PASSWORD, PID, DATA_DIR, LOG) to ENV_FILE for the tests to read. `stop` ends the process group
and removes the data dir. Standard library only.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

START_TIMEOUT_S = 240


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_env(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            values[key] = value
    return values


def start(env_file, ls_bin):
    if not os.access(ls_bin, os.X_OK):
        sys.exit(f"fixture: Label Studio not found at {ls_bin}; run scripts/deps.sh --test")
    if os.path.exists(env_file):
        stop(env_file)
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="loopdeck-ls-")
    token = secrets.token_hex(20)  # 40 chars, the legacy key column's width
    username, password = "loopdeck@example.com", "Loopdeck-test-1"
    log_path = os.path.join(data_dir, "label-studio.log")
    env = dict(os.environ,
               LATEST_VERSION_CHECK="false", COLLECT_ANALYTICS="false", SENTRY_DSN="",
               LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true", DJANGO_DB="sqlite",
               # Label Studio 1.23.2 refuses ML backends and webhooks on loopback addresses by
               # default; LoopDeck's backend runs on 127.0.0.1 in these tests.
               ML_BLOCK_LOCAL_IP="false", SSRF_PROTECTION_ENABLED="false")
    for bare in ("USERNAME", "PASSWORD", "PORT", "HOST"):
        env.pop(bare, None)  # Label Studio reads these bare names too
    cmd = [ls_bin, "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
           "--data-dir", data_dir, "--username", username, "--password", password,
           "--user-token", token, "--enable-legacy-api-token", "--log-level", "WARNING"]
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            cwd=data_dir, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            log.close()
            sys.stdout.write(open(log_path, encoding="utf-8", errors="replace").read()[-4000:])
            sys.exit(f"fixture: Label Studio exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if json.load(r).get("status") == "UP":
                    break
        except Exception:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            sys.exit(f"fixture: Label Studio did not answer /health within {START_TIMEOUT_S} s; log: {log_path}")
        time.sleep(0.5)
    with open(env_file, "w", encoding="utf-8") as f:
        for key, value in (("URL", url), ("TOKEN", token), ("USERNAME", username),
                           ("PASSWORD", password), ("PID", proc.pid), ("DATA_DIR", data_dir),
                           ("LOG", log_path)):
            f.write(f"{key}={value}\n")
    print(f"fixture: Label Studio {url} ready in data dir {data_dir} (pid {proc.pid})")


def stop(env_file):
    if not os.path.exists(env_file):
        return
    values = read_env(env_file)
    pid = int(values.get("PID", "0") or 0)
    if pid > 0:
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                os.killpg(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    data_dir = values.get("DATA_DIR", "")
    if data_dir.startswith(tempfile.gettempdir()) and "loopdeck-ls-" in data_dir:
        subprocess.run(["rm", "-rf", data_dir], check=False)
    os.remove(env_file)
    print("fixture: Label Studio stopped")


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "start":
        start(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "stop":
        stop(sys.argv[2])
    else:
        sys.exit(__doc__)
