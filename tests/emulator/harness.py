"""Start and stop real PostgreSQL 15 and MariaDB 10.11 servers that verify RDS IAM tokens.

Each server listens on 127.0.0.1 at a free port, accepts TLS only (certificates from
``trustme``), and authenticates its IAM user through PAM: ``pam_script`` runs
``verifier.py`` under the system Python, which checks the SigV4 token the way RDS does.
Everything lives in a fresh temporary directory plus one ``/etc/pam.d/rdsiamemu-*`` file per
server, so two runs on one machine do not collide. DSQL mode (on by default): the PostgreSQL
server also verifies Aurora DSQL tokens for ``DSQL_CLUSTER_ID.dsql.<region>.on.aws`` (service
``dsql``, no port, ``DbConnectAdmin`` for the role ``admin`` and ``DbConnect`` for the others),
and its certificate names that host too: reach it with ``address=Emulator.dsql.address``.
Servers are stopped by PID on ``stop()``, at interpreter exit and on SIGTERM.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DATABASE",
    "DSQL_ADMIN",
    "DSQL_CLUSTER_ID",
    "DSQL_ROLE",
    "IAM_USER",
    "LONG_TERM",
    "REGION",
    "TEMPORARY",
    "DsqlInfo",
    "Emulator",
    "EmulatorUnavailable",
    "FakeKey",
    "ServerInfo",
    "install_hint",
    "unavailable_reason",
]

REGION = "us-east-1"
IAM_USER = "jane"
DATABASE = "appdb"
DSQL_CLUSTER_ID = "abcdefghijklmnopqrstuvwxyz"
DSQL_ADMIN = "admin"  # the role every DSQL cluster has; logs in with DbConnectAdmin tokens
DSQL_ROLE = "dsql_app"  # a custom role: DbConnect tokens
DSQL_DATABASE = "postgres"
DSQL_USERS = (DSQL_ADMIN, DSQL_ROLE)
PAM_DIR = Path("/etc/pam.d")
PAM_PREFIX = "rdsiamemu-"
PAM_SCRIPT = "pam_script.so"
SYSTEM_PYTHON = "/usr/bin/python3"
MARIADB_PLUGIN = "/usr/lib/mysql/plugin/auth_pam.so"
PACKAGES = ("postgresql", "mariadb-server", "libpam-script")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class FakeKey:
    """A fake AWS key pair the emulator trusts; ``token`` marks temporary credentials."""

    access_key: str
    secret_key: str
    token: str | None = None

    def __repr__(self) -> str:
        return f"FakeKey({self.access_key!r}, temporary={self.token is not None})"

    def botocore_credentials(self) -> Any:
        """These keys as botocore ``Credentials``."""
        from botocore.credentials import Credentials

        return Credentials(self.access_key, self.secret_key, self.token)


LONG_TERM = FakeKey("AKIAEMULATORLONGTERM", "emulator/LongTerm+Secret/Key0000000000000")
# Longer than 511 bytes once in a token, like real STS session tokens (pam_exec would cut it).
TEMPORARY = FakeKey(
    "ASIAEMULATORTEMPKEY1",
    "emulator/Temporary+Secret/Key000000000000",
    "IQoJb3JpZ2luX2VjE" + "EmulatorSessionToken/+=" * 20 + "end",
)


@dataclass(frozen=True)
class ServerInfo:
    """Where a started server listens and how to log in to it."""

    engine: str
    host: str
    port: int
    ca_path: str
    user: str
    database: str
    region: str
    pid: int


@dataclass(frozen=True)
class DsqlInfo:
    """The PostgreSQL server seen as an Aurora DSQL cluster: sign for ``host``, dial ``address``."""

    host: str
    address: str
    port: int
    ca_path: str
    admin_user: str
    role_user: str
    database: str
    region: str


class EmulatorUnavailable(RuntimeError):
    """The servers cannot be started on this machine; the message says what is missing."""


def install_hint() -> str:
    """The command that installs what the emulator needs."""
    return "sudo bash tests/emulator/install.sh   # apt: " + " ".join(PACKAGES)


def _pg_bindir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _pam_module_present() -> bool:
    patterns = (f"/lib/*/security/{PAM_SCRIPT}", f"/usr/lib/*/security/{PAM_SCRIPT}")
    return any(glob.glob(pattern) for pattern in patterns)


def unavailable_reason(*, postgres: bool = True, mariadb: bool = True) -> str | None:
    """Why the emulator cannot run here, or None if it can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return (
            "the emulator needs root (it writes /etc/pam.d and runs servers as their users); "
            f"run as root, after: {install_hint()}"
        )
    missing = []
    if postgres and _pg_bindir() is None:
        missing.append("postgresql")
    if mariadb and not (shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()):
        missing.append("mariadb-server")
    elif mariadb and not Path(MARIADB_PLUGIN).exists():
        missing.append("mariadb-server (auth_pam plugin)")
    if not _pam_module_present():
        missing.append("libpam-script")
    if not Path(SYSTEM_PYTHON).exists():
        missing.append("python3")
    if missing:
        return f"missing packages: {', '.join(missing)}; install with: {install_hint()}"
    try:
        import trustme  # noqa: F401
    except ImportError:
        return "the Python package trustme is not installed (pip install trustme)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_pam_files() -> None:
    # A run killed with SIGKILL leaves its PAM service file behind; the owner PID is in the name.
    for path in PAM_DIR.glob(f"{PAM_PREFIX}*"):
        parts = path.name.split("-")
        if len(parts) >= 2 and parts[1].isdigit() and not _pid_alive(int(parts[1])):
            with contextlib.suppress(OSError):
                path.unlink()


def _chown(path: Path, user: str) -> None:
    shutil.chown(path, user, user)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise EmulatorUnavailable(f"server exited with {proc.returncode}:\n{tail}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise EmulatorUnavailable(f"server did not listen on port {port} within {timeout} s")


def _run(cmd: list[str], **kwargs: Any) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False, **kwargs)
    if result.returncode != 0:
        raise EmulatorUnavailable(
            f"{Path(cmd[0]).name} failed ({result.returncode}): {result.stderr[-2000:]}"
        )


def _run_until_ok(cmd: list[str], deadline: float) -> None:
    """Run a database client until it succeeds: the port can answer a moment before the
    server's socket exists or it accepts logins."""
    while True:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise EmulatorUnavailable(f"{Path(cmd[0]).name} failed: {result.stderr[-1000:]}")
        time.sleep(0.05)


class _Server:
    engine = ""
    os_user = ""

    def __init__(self, emulator: Emulator) -> None:
        self.emu = emulator
        self.dir = emulator.base / self.engine
        self.dir.mkdir(mode=0o755)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.service = f"{PAM_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{self.engine}"
        self.pam_file = PAM_DIR / self.service
        self.verifier_log = emulator.base / f"verifier-{self.engine}.log"

    @property
    def script_dir(self) -> Path:
        return self.emu.base / f"pam-{self.engine}"

    def write_verifier_config(self) -> None:
        """What the verifier accepts; the endpoint names the port, so rewrite on a new port."""
        config = {
            "endpoints": [f"{h}:{self.port}" for h in ("127.0.0.1", "localhost", "[::1]")],
            "region": self.emu.region,
            "keys": {
                k.access_key: {"secret": k.secret_key, "token": k.token} for k in self.emu.keys
            },
            "log": str(self.verifier_log),
            "clock_offset_file": str(self.emu.clock_offset_file),
        }
        if self.engine == "postgres" and self.emu.dsql_host is not None:
            config["dsql_hosts"] = [self.emu.dsql_host]
            config["dsql_admin"] = DSQL_ADMIN
        path = self.script_dir / "config.json"
        path.write_text(json.dumps(config))
        path.chmod(0o644)

    def write_pam(self) -> None:
        # pam_script wants its directory and script owned by root and not writable by others.
        script_dir = self.script_dir
        script_dir.mkdir(mode=0o755)
        script = script_dir / "pam_script_auth"
        shutil.copyfile(HERE / "verifier.py", script)
        script.chmod(0o755)
        self.write_verifier_config()
        self.verifier_log.touch(mode=0o666)
        self.verifier_log.chmod(0o666)
        if len(str(script_dir)) >= 126:
            raise EmulatorUnavailable(f"pam_script directory path too long: {script_dir}")
        self.pam_file.write_text(
            f"auth required {PAM_SCRIPT} dir={script_dir}\naccount required pam_permit.so\n"
        )
        self.emu.pam_files.append(self.pam_file)

    def write_tls(self) -> tuple[Path, Path]:
        cert = self.dir / "server.crt"
        key = self.dir / "server.key"
        self.emu.server_cert.cert_chain_pems[0].write_to_path(str(cert))
        self.emu.server_cert.private_key_pem.write_to_path(str(key))
        for path in (cert, key):
            _chown(path, self.os_user)
        key.chmod(0o600)
        return cert, key

    def setup(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def info(self) -> ServerInfo:
        assert self.proc is not None
        return ServerInfo(
            engine=self.engine,
            host="127.0.0.1",
            port=self.port,
            ca_path=str(self.emu.ca_path),
            user=IAM_USER,
            database=DATABASE,
            region=self.emu.region,
            pid=self.proc.pid,
        )

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        # PostgreSQL: SIGINT is "fast shutdown"; MariaDB: SIGTERM. Both stop in well under 5 s.
        proc.send_signal(signal.SIGINT if self.engine == "postgres" else signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class _Postgres(_Server):
    engine = "postgres"
    os_user = "postgres"

    def setup(self) -> None:
        bindir = _pg_bindir()
        assert bindir is not None
        self.bindir = bindir
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        _chown(self.dir, self.os_user)
        self.dir.chmod(0o750)
        self.sock.mkdir()
        _chown(self.sock, self.os_user)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--no-locale",
                "-E",
                "UTF8",
            ],
            user=self.os_user,
            cwd=str(self.dir),
        )
        self.cert, self.key = self.write_tls()
        # The IAM user must be in role rds_iam, as on RDS; everything without TLS is refused.
        (self.data / "pg_hba.conf").write_text(
            "local all postgres trust\n"
            f"hostssl all +rds_iam 127.0.0.1/32 pam pamservice={self.service}\n"
            f"hostssl all +rds_iam ::1/128 pam pamservice={self.service}\n"
            "hostnossl all all 0.0.0.0/0 reject\n"
            "hostnossl all all ::/0 reject\n"
        )

    def start(self) -> None:
        self.port = _free_port()
        self.write_pam()
        log = self.dir / "server.log"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data),
                    "-c",
                    f"port={self.port}",
                    "-c",
                    "listen_addresses=127.0.0.1,::1",
                    "-c",
                    f"unix_socket_directories={self.sock}",
                    "-c",
                    "ssl=on",
                    "-c",
                    f"ssl_cert_file={self.cert}",
                    "-c",
                    f"ssl_key_file={self.key}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "max_connections=120",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                user=self.os_user,
                cwd=str(self.dir),
                start_new_session=True,
            )
        _wait_for_port(self.port, self.proc, log, timeout=30)
        self.sql(
            "CREATE ROLE rds_iam;"
            f" CREATE ROLE {IAM_USER} LOGIN;"
            f" GRANT rds_iam TO {IAM_USER};"
            f" CREATE DATABASE {DATABASE} OWNER {IAM_USER};"
        )
        if self.emu.dsql_host is not None:
            self.sql("".join(f" CREATE ROLE {r} LOGIN; GRANT rds_iam TO {r};" for r in DSQL_USERS))

    def sql(self, statements: str) -> None:
        deadline = time.monotonic() + 20
        for statement in statements.split(";"):
            if not statement.strip():
                continue
            cmd = [
                str(self.bindir / "psql"),
                "-X",
                "-q",
                "-h",
                str(self.sock),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ]
            _run_until_ok(cmd, deadline)


class _MariaDB(_Server):
    engine = "mariadb"
    os_user = "mysql"

    def setup(self) -> None:
        self.data = self.dir / "data"
        self.sock = self.dir / "mysqld.sock"
        _chown(self.dir, self.os_user)
        self.dir.chmod(0o750)
        _run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.data}",
                f"--user={self.os_user}",
                "--skip-test-db",
                "--skip-name-resolve",
                "--auth-root-authentication-method=socket",
            ],
            cwd=str(self.dir),
            # The bootstrap server deletes every "#sql*" file in its tmpdir at start-up: in a
            # shared /tmp it would delete the temporary tables of a bootstrap running alongside.
            env={**os.environ, "TMPDIR": str(self.dir)},
        )
        self.cert, self.key = self.write_tls()

    def start(self) -> None:
        log = self.dir / "server.log"
        for attempt in range(3):
            self.port = _free_port()
            if attempt == 0:
                self.write_pam()
            else:
                self.write_verifier_config()
            with open(log, "wb") as out:
                self.proc = subprocess.Popen(
                    [
                        "mariadbd",
                        "--no-defaults",
                        f"--datadir={self.data}",
                        f"--socket={self.sock}",
                        f"--pid-file={self.dir / 'mysqld.pid'}",
                        f"--port={self.port}",
                        "--bind-address=127.0.0.1",
                        f"--user={self.os_user}",
                        f"--ssl-cert={self.cert}",
                        f"--ssl-key={self.key}",
                        "--require-secure-transport=ON",
                        "--plugin-load-add=auth_pam",
                        "--pam-use-cleartext-plugin=ON",
                        "--skip-name-resolve",
                        "--skip-log-bin",
                        "--innodb-buffer-pool-size=16M",
                        "--max-connections=200",
                        f"--tmpdir={self.dir}",
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=str(self.dir),
                    start_new_session=True,
                )
            try:
                _wait_for_port(self.port, self.proc, log, timeout=30)
                break
            except EmulatorUnavailable:
                # MariaDB has no port 0: another process may have taken ours meanwhile.
                if attempt == 2 or "Address already in use" not in log.read_text(errors="replace"):
                    raise
        self.sql(
            f"CREATE USER '{IAM_USER}'@'%' IDENTIFIED VIA pam USING '{self.service}' REQUIRE SSL;"
            f" CREATE DATABASE {DATABASE};"
            f" GRANT ALL ON {DATABASE}.* TO '{IAM_USER}'@'%';"
        )

    def sql(self, statements: str) -> None:
        deadline = time.monotonic() + 20
        cmd = ["mariadb", "--no-defaults", f"--socket={self.sock}", "-uroot", "-e", statements]
        _run_until_ok(cmd, deadline)


# Runs as its own process for each Emulator. It blocks reading a pipe whose only writer is the
# process that started the servers; end of file means that process is gone, however it died
# (SIGKILL and timeouts included), and the watchdog stops by PID every process whose command
# line names this run's private directory, then removes the directory and the PAM files.
_WATCHDOG = """
import os, shutil, signal, sys, time
base, pam_files = sys.argv[1], sys.argv[2:]
sys.stdin.buffer.read()
def ours():
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if base.encode() in f.read():
                        pids.append(int(entry))
            except OSError:
                pass
    return pids
# PostgreSQL shuts down fast on SIGINT, MariaDB on SIGTERM; SIGKILL if either hangs.
for sigs in ((signal.SIGINT, signal.SIGTERM), (signal.SIGKILL,)):
    pids = ours()
    if not pids:
        break
    for pid in pids:
        for sig in sigs:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
    deadline = time.monotonic() + 10
    while ours() and time.monotonic() < deadline:
        time.sleep(0.1)
for path in pam_files:
    try:
        os.unlink(path)
    except OSError:
        pass
shutil.rmtree(base, ignore_errors=True)
"""


def _spawn_watchdog(base: Path, pam_files: list[Path]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-I", "-c", _WATCHDOG, str(base), *map(str, pam_files)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


_live: set[Emulator] = set()
_live_lock = threading.Lock()


def _stop_all() -> None:
    with _live_lock:
        emulators = list(_live)
    for emu in emulators:
        emu.stop()


def _on_sigterm(signum: int, frame: object) -> None:
    _stop_all()
    raise SystemExit(128 + signum)


_hooks_installed = False


def _install_hooks() -> None:
    global _hooks_installed  # noqa: PLW0603 - once per process
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, _on_sigterm)
        if signal.getsignal(signal.SIGHUP) in (signal.SIG_DFL, None):
            signal.signal(signal.SIGHUP, _on_sigterm)


class Emulator:
    """Real PostgreSQL and MariaDB servers that authenticate IAM tokens over TLS.

    Use as a context manager; ``pg`` and ``mysql`` describe the running servers::

        with Emulator() as emu:
            rds_iam_auth.Connector(credentials=LONG_TERM.botocore_credentials(),
                                   region=emu.pg.region, ca=emu.pg.ca_path).connect(
                emu.pg.host, emu.pg.user, driver="psycopg", port=emu.pg.port,
                dbname=emu.pg.database)
    """

    def __init__(
        self,
        *,
        postgres: bool = True,
        mariadb: bool = True,
        region: str = REGION,
        keys: tuple[FakeKey, ...] = (LONG_TERM, TEMPORARY),
        dsql: bool = True,
    ) -> None:
        self.want_postgres = postgres
        # The DSQL mode needs no server of its own: the PostgreSQL one answers for this host.
        self.dsql_host = f"{DSQL_CLUSTER_ID}.dsql.{region}.on.aws" if dsql and postgres else None
        self.want_mariadb = mariadb
        self.region = region
        self.keys = keys
        self.base = Path()
        self.pam_files: list[Path] = []
        self._servers: dict[str, _Server] = {}
        self._stopped = False
        self._watchdog: subprocess.Popen[bytes] | None = None
        self.setup_seconds = 0.0

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> Emulator:
        """Create the directory, certificates, PAM services and servers; wait until ready."""
        reason = unavailable_reason(postgres=self.want_postgres, mariadb=self.want_mariadb)
        if reason is not None:
            raise EmulatorUnavailable(reason)
        import trustme

        started = time.monotonic()
        _install_hooks()
        _remove_stale_pam_files()
        # Short path: pam_script refuses script directories of 126 characters or more.
        self.base = Path(tempfile.mkdtemp(prefix=PAM_PREFIX, dir="/tmp"))
        self.base.chmod(0o755)
        with _live_lock:
            _live.add(self)
        try:
            ca = trustme.CA()
            names = ["localhost", "127.0.0.1", "::1"]
            self.server_cert = ca.issue_cert(*names, *([self.dsql_host] if self.dsql_host else []))
            self.ca_path = self.base / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_path))
            self.ca_path.chmod(0o644)
            if self.want_postgres:
                self._servers["postgres"] = _Postgres(self)
            if self.want_mariadb:
                self._servers["mariadb"] = _MariaDB(self)
            self._watchdog = _spawn_watchdog(
                self.base, [server.pam_file for server in self._servers.values()]
            )
            # initdb and mariadb-install-db take a second or two each: run them side by side.
            errors: list[BaseException] = []

            def bring_up(server: _Server) -> None:
                try:
                    server.setup()
                    server.start()
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=bring_up, args=(s,)) for s in self._servers.values()]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
        except BaseException:
            self.stop()
            raise
        self.setup_seconds = time.monotonic() - started
        return self

    @property
    def pg(self) -> ServerInfo:
        """The PostgreSQL server."""
        return self._servers["postgres"].info()

    @property
    def mysql(self) -> ServerInfo:
        """The MariaDB server."""
        return self._servers["mariadb"].info()

    @property
    def dsql(self) -> DsqlInfo:
        """The PostgreSQL server as an Aurora DSQL cluster (``Emulator(dsql=True)``, default)."""
        if self.dsql_host is None:
            raise EmulatorUnavailable("DSQL mode is off: Emulator(dsql=True, postgres=True)")
        pg = self.pg
        return DsqlInfo(
            host=self.dsql_host,
            address=f"127.0.0.1:{pg.port}",
            port=pg.port,
            ca_path=pg.ca_path,
            admin_user=DSQL_ADMIN,
            role_user=DSQL_ROLE,
            database=DSQL_DATABASE,
            region=self.region,
        )

    def sql(self, engine: str, statements: str) -> None:
        """Run admin SQL on "postgres" or "mariadb" (as the superuser, over the local socket)."""
        self._servers[engine].sql(statements)

    @property
    def clock_offset_file(self) -> Path:
        """The file both verifiers read their clock offset from."""
        return self.base / "clock-offset"

    def set_clock_offset(self, seconds: float) -> None:
        """Move both servers' token clock ``seconds`` ahead of real time (0 resets it).

        Tests that advance a ``FakeClock`` across token lifetimes move this with it; the
        verifier refuses tokens dated more than 300 s ahead of its own clock.
        """
        path = self.clock_offset_file
        path.write_text(repr(float(seconds)))
        path.chmod(0o644)

    def verifier_log(self, engine: str) -> list[str]:
        """The verifier's verdicts for ``engine`` ("postgres" or "mariadb"), oldest first."""
        path = self._servers[engine].verifier_log
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        """Stop the servers by PID and remove every file this run created. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        for server in self._servers.values():
            with contextlib.suppress(Exception):
                server.stop()
        for path in self.pam_files:
            with contextlib.suppress(OSError):
                path.unlink()
        if self.base != Path() and self.base.exists():
            shutil.rmtree(self.base, ignore_errors=True)
        if self._watchdog is not None:
            # Nothing left for it to do; closing the pipe lets it exit.
            with contextlib.suppress(Exception):
                self._watchdog.stdin.close()  # type: ignore[union-attr]
                self._watchdog.wait(timeout=15)
        with _live_lock:
            _live.discard(self)
