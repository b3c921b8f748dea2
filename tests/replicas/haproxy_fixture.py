#!/usr/bin/env python3
"""HAProxy in front of N `loopdeck serve` replicas, for the replica tests.

    with Haproxy([port1, port2, port3]) as lb:     # servers r1..r3 on 127.0.0.1:portN
        lb.url                                     # http://127.0.0.1:FRONT
        lb.states()                                # {"r1": {"status": "UP", ...}, ...}
        lb.wait_status({"r1": "UP", "r2": "DOWN"}, timeout=10)

    haproxy_fixture.py selftest                    # 3 tiny http.server backends, checks the above

The config: `balance leastconn`, health check GET /ready (200 = in rotation; a replica answers
503 until it has loaded the active models), `retries 3`, `option redispatch 1` (every retry goes
to another server, not only the last), `retry-on all-retryable-errors` (connection failures,
empty responses after a kill -9, 502/503/504 ...; POSTs too: the request is kept in the buffer),
`option http-buffer-request` (without it a POST that was being forwarded when its replica was
killed came back 502 "SH--" unretried in about 1 of 4 selftest runs; with it 0 in 15),
and an admin stats socket in the temp dir (`show stat` as CSV gives each server's state).
Server slots may be given for replicas that are not running yet: they are DOWN until they are.
Standard library only; HAProxy from the Debian package (/usr/sbin/haproxy).
"""
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PREFIX = "loopdeck-haproxy-"
HAPROXY = os.environ.get("LOOPDECK_HAPROXY") or shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(front_port, servers, stats_socket, check_inter_ms=500, server_timeout_s=120, check_path="/ready"):
    """servers: list of (name, port). Health checks every check_inter_ms: 2 failures take a
    server out, 1 success puts it back."""
    lines = [
        "global",
        f"    stats socket {stats_socket} mode 600 level admin",
        "    maxconn 4096",
        "    log stdout format raw local0 info",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    option dontlognull",
        "    timeout connect 1s",
        "    timeout client 300s",
        f"    timeout server {server_timeout_s}s",
        "    timeout check 2s",
        "    timeout queue 30s",
        "    retries 3",
        "    option redispatch 1",
        "    retry-on all-retryable-errors",
        "    option http-buffer-request",
        "frontend loopdeck_front",
        f"    bind 127.0.0.1:{front_port}",
        "    default_backend loopdeck",
        "backend loopdeck",
        "    balance leastconn",
        # Operator and training POSTs are not replayed on another replica (as in the deploy example).
        "    acl replay_unsafe path /train",
        "    acl replay_unsafe path_beg /loop/",
        "    http-request disable-l7-retry if METH_POST replay_unsafe",
        "    option httpchk",
        # Host: the backend answers only names it knows (DNS-rebinding guard), as in
        # packaging/deploy/haproxy.cfg.
        f"    http-check send meth GET uri {check_path} ver HTTP/1.1 hdr Host localhost",
        "    http-check expect status 200",
        f"    default-server inter {check_inter_ms}ms fastinter {max(100, check_inter_ms // 2)}ms "
        f"downinter {check_inter_ms}ms fall 2 rise 1",
    ]
    for name, port in servers:
        lines.append(f"    server {name} 127.0.0.1:{port} check")
    return "\n".join(lines) + "\n"


class Haproxy:
    def __init__(self, server_ports, names=None, front_port=None, check_inter_ms=500, server_timeout_s=120, quiet=False,
                 check_path="/ready"):
        self.names = list(names) if names else [f"r{i + 1}" for i in range(len(server_ports))]
        if len(self.names) != len(server_ports):
            raise ValueError("one name per server port")
        self.servers = list(zip(self.names, server_ports))
        self.front_port = front_port
        self.check_inter_ms = check_inter_ms
        self.server_timeout_s = server_timeout_s
        self.quiet = quiet
        self.check_path = check_path
        self.dir = self.proc = self.log = None
        self.url = None

    def _log(self, msg):
        if not self.quiet:
            print(f"haproxy_fixture: {msg}", flush=True)

    def start(self):
        if not os.access(HAPROXY, os.X_OK):
            raise RuntimeError(f"haproxy not found at {HAPROXY}; install it with scripts/deps.sh --test")
        self.dir = tempfile.mkdtemp(prefix=PREFIX)
        self.stats_socket = os.path.join(self.dir, "stats.sock")
        self.cfg_path = os.path.join(self.dir, "haproxy.cfg")
        self.log_path = os.path.join(self.dir, "haproxy.log")
        try:
            for attempt in range(5):
                port = self.front_port or free_port()
                with open(self.cfg_path, "w", encoding="utf-8") as f:
                    f.write(config_text(port, self.servers, self.stats_socket, self.check_inter_ms, self.server_timeout_s,
                                        self.check_path))
                check = subprocess.run([HAPROXY, "-c", "-q", "-f", self.cfg_path], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
                if check.returncode != 0:
                    raise RuntimeError(f"haproxy -c refused the config: {check.stdout}")
                self.log = open(self.log_path, "ab")
                # -db: foreground, so it is our child and ends with us; -W not needed (no reloads).
                self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg_path], stdout=self.log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
                if self._wait_listening(port):
                    self.front_port = port
                    self.url = f"http://127.0.0.1:{port}"
                    self._log(f"haproxy on {self.url} (pid {self.proc.pid}) for "
                              + ", ".join(f"{n}=127.0.0.1:{p}" for n, p in self.servers))
                    return self
                self._stop_proc()
                if self.front_port:
                    break
            raise RuntimeError(f"haproxy did not start; log:\n{self.log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _wait_listening(self, port, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    pass
                if os.path.exists(self.stats_socket):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def log_tail(self, chars=4000):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-chars:]
        except (OSError, TypeError):
            return ""

    def _stop_proc(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: hard stop, fine for a test
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None

    def stop(self, keep_dir=False):
        self._stop_proc()
        if self.dir and not keep_dir and os.path.basename(self.dir).startswith(PREFIX):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- runtime API ----------------------------------------------------------------------------
    def command(self, line, timeout=5):
        """One command on the admin stats socket (e.g. "show stat", "disable server loopdeck/r1")."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.stats_socket)
            s.sendall(line.encode() + b"\n")
            chunks = []
            while True:
                data = s.recv(65536)
                if not data:
                    break
                chunks.append(data)
        return b"".join(chunks).decode(errors="replace")

    def states(self):
        """{server name: {"status": "UP"/"DOWN"/"MAINT"/"UP 1/2"..., "check_status", "check_code",
        "scur" (current sessions), "stot" (total sessions), "retries" ("wretr"), "redispatches"
        ("wredis"), "errors" (eresp), "downtime", "lastchg"}} of the loopdeck backend."""
        text = self.command("show stat")
        if not text.startswith("# "):
            raise RuntimeError(f"unexpected answer to show stat: {text[:200]!r}")
        rows = csv.DictReader(io.StringIO(text[2:]))
        out = {}
        for row in rows:
            if row.get("pxname") != "loopdeck" or row.get("svname") in ("FRONTEND", "BACKEND"):
                continue
            out[row["svname"]] = {
                "status": row.get("status", ""), "check_status": row.get("check_status", ""),
                "check_code": row.get("check_code", ""), "scur": _int(row.get("scur")), "stot": _int(row.get("stot")),
                "retries": _int(row.get("wretr")), "redispatches": _int(row.get("wredis")),
                "errors": _int(row.get("eresp")), "downtime": _int(row.get("downtime")),
                "lastchg": _int(row.get("lastchg")),
            }
        return out

    def backend_totals(self):
        """The backend row's counters: retries, redispatches, response errors, 5xx sent."""
        text = self.command("show stat")
        for row in csv.DictReader(io.StringIO(text[2:])):
            if row.get("pxname") == "loopdeck" and row.get("svname") == "BACKEND":
                return {"retries": _int(row.get("wretr")), "redispatches": _int(row.get("wredis")),
                        "errors": _int(row.get("eresp")), "conn_errors": _int(row.get("econ")),
                        "hrsp_5xx": _int(row.get("hrsp_5xx")), "sessions": _int(row.get("stot"))}
        return {}

    def status(self, name):
        return self.states().get(name, {}).get("status", "")

    def wait_status(self, wanted, timeout=15, step=0.1):
        """Waits until every named server's status starts with the wanted word (UP / DOWN / MAINT);
        returns the seconds it took, raises with the last states on timeout."""
        t0 = time.monotonic()
        states = {}
        while time.monotonic() - t0 < timeout:
            states = self.states()
            if all(states.get(n, {}).get("status", "").split(" ")[0] == w for n, w in wanted.items()):
                return time.monotonic() - t0
            time.sleep(step)
        raise RuntimeError(f"haproxy: servers not {wanted} within {timeout}s: "
                           + json.dumps({n: (s["status"], s["check_status"], s["check_code"]) for n, s in states.items()}))


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


# -- selftest ---------------------------------------------------------------------------------------
TINY_BACKEND = r'''
import http.server, json, os, sys, time
port, name, flag_dir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        if self.path == "/ready":
            notready = os.path.exists(os.path.join(flag_dir, name + ".notready"))
            self._send(503 if notready else 200, {"ready": not notready})
        else:
            self._send(200, {"server": name})
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        time.sleep(0.03)  # so that some requests are in flight when the test kills this backend
        self._send(200, {"server": name, "len": len(body)})
class S(http.server.ThreadingHTTPServer):
    daemon_threads = True
    def handle_error(self, request, client_address):
        pass  # haproxy's health checks close with a reset
S(("127.0.0.1", port), H).serve_forever()
'''


def _start_tiny(port, name, flag_dir):
    return subprocess.Popen([sys.executable, "-c", TINY_BACKEND, str(port), name, flag_dir])


def _wait_http(url, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


def selftest():
    flag_dir = tempfile.mkdtemp(prefix="loopdeck-haproxy-selftest-")
    ports = [free_port() for _ in range(3)]
    procs = {}
    try:
        for i, p in enumerate(ports):
            procs[f"r{i + 1}"] = _start_tiny(p, f"r{i + 1}", flag_dir)
        for p in ports:
            _wait_http(f"http://127.0.0.1:{p}/ready")
        with Haproxy(ports) as lb:
            t = lb.wait_status({"r1": "UP", "r2": "UP", "r3": "UP"}, timeout=10)
            print(f"selftest: all 3 UP after {t:.2f}s")
            seen = set()
            for _ in range(30):
                with urllib.request.urlopen(lb.url + "/x", timeout=5) as r:
                    seen.add(json.load(r)["server"])
            assert seen == {"r1", "r2", "r3"}, seen
            # not ready -> out of rotation
            open(os.path.join(flag_dir, "r2.notready"), "w").close()
            t = lb.wait_status({"r2": "DOWN"}, timeout=10)
            print(f"selftest: r2 answering 503 on /ready is DOWN after {t:.2f}s")
            seen = set()
            for _ in range(20):
                with urllib.request.urlopen(lb.url + "/x", timeout=5) as r:
                    seen.add(json.load(r)["server"])
            assert "r2" not in seen, seen
            os.remove(os.path.join(flag_dir, "r2.notready"))
            t = lb.wait_status({"r2": "UP"}, timeout=10)
            print(f"selftest: r2 back UP after {t:.2f}s")
            # kill -9 one backend while POSTs go through: retries/redispatch should hide it
            failures, done, stop = [], [0], threading.Event()

            def client():
                while not stop.is_set():
                    req = urllib.request.Request(lb.url + "/predict", data=b'{"tasks":[]}', method="POST",
                                                 headers={"Content-Type": "application/json"})
                    try:
                        with urllib.request.urlopen(req, timeout=10) as r:
                            r.read()
                        done[0] += 1
                    except Exception as e:  # noqa: BLE001 - counted
                        failures.append(repr(e))
            threads = [threading.Thread(target=client) for _ in range(4)]
            for th in threads:
                th.start()
            time.sleep(0.5)
            procs["r1"].send_signal(signal.SIGKILL)
            procs["r1"].wait()
            t = lb.wait_status({"r1": "DOWN"}, timeout=10)
            time.sleep(0.5)
            stop.set()
            for th in threads:
                th.join()
            totals = lb.backend_totals()
            print(f"selftest: r1 killed, DOWN after {t:.2f}s; {done[0]} POSTs ok, {len(failures)} failed; "
                  f"haproxy retries {totals['retries']}, redispatches {totals['redispatches']}")
            assert not failures, (failures[:5], [l for l in lb.log_tail(200000).splitlines() if ' 200 ' not in l][-10:])
            assert done[0] > 0
            # the slot comes back when the replica does
            procs["r1"] = _start_tiny(ports[0], "r1", flag_dir)
            t = lb.wait_status({"r1": "UP"}, timeout=10)
            print(f"selftest: r1 restarted, UP after {t:.2f}s")
            assert lb.command("disable server loopdeck/r3").strip() == ""
            assert lb.status("r3").startswith("MAINT"), lb.status("r3")
            d = lb.dir
        assert not os.path.exists(d)
        print("haproxy_fixture: selftest passed")
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(flag_dir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "selftest":
        selftest()
    else:
        sys.exit(__doc__)
