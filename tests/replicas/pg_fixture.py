#!/usr/bin/env python3
"""A throwaway PostgreSQL for the replica tests (fixture PG), from the Debian package.

    pg_fixture.py start ENV_FILE     initdb + pg_ctl start; writes URL, PORT, ... to ENV_FILE
    pg_fixture.py stop ENV_FILE      pg_ctl stop (immediate if fast fails), removes the dir
    pg_fixture.py selftest           start, create a database, query it, stop

As a library:

    with PgServer() as pg:
        url = pg.create_database("case_a")      # postgresql://USER:PASSWORD@127.0.0.1:PORT/case_a
        rows = pg.query_json(url, "SELECT ...") # psql, result as JSON (no Python driver needed)

`start` makes a temporary dir (loopdeck-pg-*), owned by the `postgres` OS user when we run as
root (initdb and the server refuse to run as root), runs initdb into it with trust for the unix
socket (kept inside the dir, so only this machine's root/postgres reach it) and a password for
TCP, starts the server on a free loopback port with fsync off (a test database), and creates a
role with a password (LOGIN CREATEDB) and a database it owns. Standard library only; psql and the
server binaries come from /usr/lib/postgresql/15/bin (or LOOPDECK_PG_BIN).
"""
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

PREFIX = "loopdeck-pg-"
START_TIMEOUT_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_env(path):
    values = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            if key:
                values[key] = value
    return values


def find_bin_dir():
    """LOOPDECK_PG_BIN, else /usr/lib/postgresql/15/bin, else the newest installed version."""
    wanted = os.environ.get("LOOPDECK_PG_BIN")
    candidates = [wanted] if wanted else []
    candidates.append("/usr/lib/postgresql/15/bin")
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0, reverse=True)
    for d in candidates:
        if d and os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK):
            return d
    raise RuntimeError("PostgreSQL server binaries not found (initdb, pg_ctl) in /usr/lib/postgresql/*/bin; "
                       "install them with scripts/deps.sh --test (Debian package postgresql) or set LOOPDECK_PG_BIN")


def psql_path(bin_dir):
    p = os.path.join(bin_dir, "psql")
    return p if os.access(p, os.X_OK) else (shutil.which("psql") or "psql")


def parse_url(url):
    u = urllib.parse.urlsplit(url)
    return {"user": urllib.parse.unquote(u.username or ""), "password": urllib.parse.unquote(u.password or ""),
            "host": u.hostname or "127.0.0.1", "port": u.port or 5432, "db": u.path.lstrip("/")}


def make_url(user, password, port, db, host="127.0.0.1"):
    q = urllib.parse.quote
    return f"postgresql://{q(user, safe='')}:{q(password, safe='')}@{host}:{port}/{q(db, safe='')}"


def run_psql(psql, url, sql, timeout=120, check=True):
    """psql against URL (TCP, password from the URL via PGPASSWORD); returns stdout (unaligned,
    tuples only). The password stays out of the process list."""
    p = parse_url(url)
    env = dict(os.environ, PGPASSWORD=p["password"], PGCONNECT_TIMEOUT="10", PGAPPNAME="loopdeck-tests")
    cmd = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", p["host"], "-p", str(p["port"]), "-U", p["user"],
           "-d", p["db"], "-c", sql]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"psql failed ({r.returncode}): {r.stderr.strip()}\nSQL: {sql[:500]}")
    return r.stdout


def query_json(psql, url, sql, timeout=120):
    """Rows of a SELECT as a list of dicts: psql prints one json_agg value (no quoting issues with
    tabs or newlines in the data)."""
    out = run_psql(psql, url, f"SELECT coalesce(json_agg(q), '[]'::json) FROM ({sql}) q", timeout=timeout).strip()
    return json.loads(out) if out else []


class PgServer:
    """One PostgreSQL cluster in a temporary dir; a context manager (stops and removes it)."""

    def __init__(self, bin_dir=None, user="loopdeck", db="loopdeck", password=None, port=None, quiet=False):
        self.bin_dir = bin_dir or find_bin_dir()
        self.psql = psql_path(self.bin_dir)
        self.user, self.db = user, db
        self.password = password or secrets.token_urlsafe(18)
        self.port = port
        self.quiet = quiet
        self.dir = None
        self.pgdata = self.socket_dir = self.log_path = None
        self.pid = 0
        self.url = None

    # -- running commands as the cluster's owner ------------------------------------------------
    def _owner(self):
        return "postgres" if os.geteuid() == 0 else None

    def _as_owner(self, cmd):
        owner = self._owner()
        if owner is None:
            return cmd
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        if os.access(runuser, os.X_OK):
            return [runuser, "-u", owner, "--"] + cmd
        return ["su", owner, "-s", "/bin/sh", "-c", " ".join(_shquote(c) for c in cmd)]

    def _run(self, cmd, timeout=120, check=True):
        r = subprocess.run(self._as_owner(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, cwd=self.dir or "/")
        if check and r.returncode != 0:
            raise RuntimeError(f"{os.path.basename(cmd[0])} failed ({r.returncode}): {r.stdout.strip()[-3000:]}")
        return r

    def _log(self, msg):
        if not self.quiet:
            print(f"pg_fixture: {msg}", flush=True)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        owner = self._owner()
        if owner:
            try:
                ent = pwd.getpwnam(owner)
            except KeyError:
                raise RuntimeError("running as root but there is no `postgres` OS user (install the Debian package postgresql)")
        self.dir = tempfile.mkdtemp(prefix=PREFIX)
        os.chmod(self.dir, 0o700)
        if owner:
            os.chown(self.dir, ent.pw_uid, ent.pw_gid)
        self.pgdata = os.path.join(self.dir, "data")
        self.socket_dir = self.dir
        self.log_path = os.path.join(self.dir, "postgresql.log")
        self._run([os.path.join(self.bin_dir, "initdb"), "-D", self.pgdata, "-U", "postgres", "-E", "UTF8",
                   "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"], timeout=180)
        last_error = None
        for attempt in range(5):
            port = self.port or free_port()
            opts = (f"-p {port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                    f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            r = self._run([os.path.join(self.bin_dir, "pg_ctl"), "-D", self.pgdata, "-l", self.log_path, "-w",
                           "-t", str(START_TIMEOUT_S), "-o", opts, "start"], timeout=START_TIMEOUT_S + 30, check=False)
            if r.returncode == 0:
                self.port = port
                break
            last_error = r.stdout.strip() + "\n" + self._log_tail()
            if self.port:  # a fixed port that does not work will not start working
                break
        else:
            raise RuntimeError(f"pg_ctl start failed 5 times; last: {last_error}")
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {last_error}")
        self.pid = self._postmaster_pid()
        pw = self.password.replace("'", "''")
        self.superuser_sql(f"CREATE ROLE \"{self.user}\" LOGIN CREATEDB PASSWORD '{pw}'")
        self.superuser_sql(f"CREATE DATABASE \"{self.db}\" OWNER \"{self.user}\"")
        self.url = make_url(self.user, self.password, self.port, self.db)
        run_psql(self.psql, self.url, "SELECT 1")  # the role logs in over TCP with its password
        self._log(f"PostgreSQL on 127.0.0.1:{self.port} (pid {self.pid}, dir {self.dir}), database {self.db}")

    def _postmaster_pid(self):
        try:
            with open(os.path.join(self.pgdata, "postmaster.pid"), encoding="ascii") as f:
                return int(f.readline().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _log_tail(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def superuser_sql(self, sql):
        """SQL as the cluster's superuser over the unix socket in the temp dir (trust)."""
        cmd = [self.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-h", self.socket_dir, "-p", str(self.port),
               "-U", "postgres", "-d", "postgres", "-c", sql]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"psql (superuser) failed: {r.stderr.strip()}\nSQL: {sql}")
        return r.stdout

    def stop(self):
        stop_cluster(self.bin_dir, self.dir, self.pgdata, self.pid, as_owner=self._as_owner, log=self._log)
        self.dir = None
        self.pid = 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- for tests ------------------------------------------------------------------------------
    def create_database(self, name):
        return create_database(self.psql, self.url, name)

    def query_json(self, url, sql):
        return query_json(self.psql, url, sql)

    def env_values(self):
        return {"URL": self.url, "HOST": "127.0.0.1", "PORT": self.port, "USER": self.user, "PASSWORD": self.password,
                "DB": self.db, "DIR": self.dir, "PGDATA": self.pgdata, "SOCKET_DIR": self.socket_dir, "PID": self.pid,
                "LOG": self.log_path, "BIN_DIR": self.bin_dir, "PSQL": self.psql}


def create_database(psql, url, name):
    """A new, empty database owned by URL's role (it has CREATEDB); returns its URL. An existing
    one of that name is dropped first, so a test always starts from an empty store."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"database name {name!r}: letters, digits and _ only")
    admin = dict(parse_url(url))
    admin_url = make_url(admin["user"], admin["password"], admin["port"], "postgres", admin["host"])
    run_psql(psql, admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run_psql(psql, admin_url, f'CREATE DATABASE "{name}"')
    return make_url(admin["user"], admin["password"], admin["port"], name, admin["host"])


def _shquote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def _alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_cluster(bin_dir, directory, pgdata, pid, as_owner=lambda c: c, log=print):
    """pg_ctl stop -m fast; if that fails or times out, -m immediate; then SIGKILL the postmaster
    if it is still there; then remove the temp dir (only one of ours)."""
    # A postmaster that is gone (or a zombie nobody reaped yet) needs no pg_ctl: it would wait for
    # the zombie until its timeout.
    if pgdata and os.path.exists(os.path.join(pgdata, "postmaster.pid")) and (pid <= 0 or _alive(pid)):
        pg_ctl = os.path.join(bin_dir, "pg_ctl")
        for mode, wait in (("fast", 30), ("immediate", 15)):
            try:
                r = subprocess.run(as_owner([pg_ctl, "-D", pgdata, "-m", mode, "-w", "-t", str(wait), "stop"]),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=wait + 15, cwd="/")
                if r.returncode == 0:
                    break
                log(f"pg_ctl stop -m {mode} failed: {r.stdout.strip()}")
            except subprocess.TimeoutExpired:
                log(f"pg_ctl stop -m {mode} timed out")
    if _alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
    if directory and os.path.basename(directory.rstrip("/")).startswith(PREFIX) \
            and os.path.dirname(os.path.abspath(directory)) == os.path.abspath(tempfile.gettempdir()):
        shutil.rmtree(directory, ignore_errors=True)
        log(f"removed {directory}")


# -- ctest fixture ----------------------------------------------------------------------------------
def fixture_start(env_file):
    if os.path.exists(env_file):
        fixture_stop(env_file)
    pg = PgServer().start()
    try:
        tmp = env_file + ".new"
        with open(tmp, "w", encoding="utf-8") as f:
            for key, value in pg.env_values().items():
                f.write(f"{key}={value}\n")
        os.chmod(tmp, 0o600)  # holds the password
        os.replace(tmp, env_file)
    except BaseException:
        pg.stop()
        raise
    print(f"pg_fixture: ready, {env_file} has URL=postgresql://{pg.user}:***@127.0.0.1:{pg.port}/{pg.db}")


def fixture_stop(env_file):
    if not os.path.exists(env_file):
        print("pg_fixture: nothing to stop")
        return
    v = read_env(env_file)
    owner_run = (lambda c: ["runuser", "-u", "postgres", "--"] + c) if os.geteuid() == 0 else (lambda c: c)
    stop_cluster(v.get("BIN_DIR") or find_bin_dir(), v.get("DIR"), v.get("PGDATA"), int(v.get("PID") or 0),
                 as_owner=owner_run, log=lambda m: print(f"pg_fixture: {m}", flush=True))
    os.remove(env_file)
    print("pg_fixture: PostgreSQL stopped")


def selftest():
    with PgServer() as pg:
        url = pg.create_database("selftest_db")
        run_psql(pg.psql, url, "CREATE TABLE t (k TEXT PRIMARY KEY, body BYTEA, n BIGINT)")
        run_psql(pg.psql, url, "INSERT INTO t VALUES ('a\tb\nc', '\\x0001ff', 7), ('x', NULL, 8)")
        rows = pg.query_json(url, "SELECT k, encode(body, 'hex') AS body, n FROM t ORDER BY n")
        assert rows == [{"k": "a\tb\nc", "body": "0001ff", "n": 7}, {"k": "x", "body": None, "n": 8}], rows
        assert pg.query_json(url, "SELECT 1 AS one WHERE false") == []
        again = pg.create_database("selftest_db")  # dropped and made again: empty
        assert pg.query_json(again, "SELECT count(*) AS n FROM pg_tables WHERE tablename = 't'") == [{"n": 0}]
        d, pid = pg.dir, pg.pid
    assert not os.path.exists(d), d
    assert not _alive(pid), pid
    print("pg_fixture: selftest passed")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "start":
        fixture_start(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        fixture_stop(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "selftest":
        selftest()
    else:
        sys.exit(__doc__)
