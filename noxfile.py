"""Developer commands. `nox -s demo` runs the end-to-end demo, `nox -s tests` the test suite.

nox installs everything else (the package, drivers, test tools) into its own virtualenvs.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The signer uses two underscore methods of botocore: test both ends of the declared range.
OLDEST_BOTOCORE = ["botocore==1.34.0", "boto3==1.34.0"]
# The first botocore/boto3 with client("dsql").generate_db_connect_auth_token and
# generate_db_connect_admin_auth_token, the reference of the DSQL parity tests (our DSQL
# signing itself needs nothing newer than OLDEST_BOTOCORE).
OLDEST_DSQL_BOTOCORE = ["botocore==1.35.74", "boto3==1.35.74"]
TEST_DEPS = [
    "pytest>=8",
    "pytest-xdist>=3.5",
    "boto3>=1.34",
    "trustme>=1.1",
    "sqlalchemy[asyncio]>=2.0.16",  # 2.1 no longer pulls greenlet itself
    "psycopg-pool>=3.3",
    "django>=5.2",  # pip picks 5.2 LTS on 3.10/3.11, 6.x on 3.12+
    "moto[server]>=5",  # a local STS on loopback for credential refresh and doctor
    "uvloop>=0.21",  # the async path under another event loop
    "hypothesis>=6.100",
]
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

nox.options.sessions = ["tests", "tests_mysql_connector_cext", "lint", "typecheck"]
nox.options.reuse_venv = "yes"
# A newcomer's machine may have only one Python: skip the others there. CI is meant to have
# all four (pyenv), so a missing one is a failure there.
nox.options.error_on_missing_interpreters = CI


def _expose_pyenv_versions() -> None:
    # pyenv shims only answer for the active version; listing every installed one lets nox
    # find python3.10 ... python3.13 side by side.
    pyenv = shutil.which("pyenv")
    if pyenv is None or os.environ.get("PYENV_VERSION"):
        return
    try:
        out = subprocess.run(
            [pyenv, "versions", "--bare", "--skip-aliases"],
            capture_output=True,
            text=True,
            check=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return
    versions = [v for v in out.split() if v[:1].isdigit() and "/" not in v]
    if versions:
        os.environ["PYENV_VERSION"] = ":".join(versions)


_expose_pyenv_versions()


def _can_build_mysqlclient() -> bool:
    # mysqlclient compiles against MariaDB/MySQL Connector/C; tests/emulator/install.sh installs
    # its headers. A newcomer's machine without them still runs every other driver's tests.
    if CI:
        return True
    return any(
        shutil.which("pkg-config")
        and subprocess.run(["pkg-config", "--exists", lib], check=False).returncode == 0
        for lib in ("mysqlclient", "libmariadb")
    )


def _install_package(session: nox.Session, *extra: str) -> None:
    if _can_build_mysqlclient():
        session.install("-e", ".[all]", *extra)
        return
    session.log(
        "mysqlclient's build dependencies are missing (sudo bash tests/emulator/install.sh "
        "installs them): testing every driver but mysqlclient"
    )
    session.install(
        "-e", ".[psycopg,pymysql,psycopg2,pg8000,mysql-connector,asyncpg,aiomysql,asyncmy]", *extra
    )


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Unit, integration and security tests (integration needs the local emulator: README)."""
    _install_package(session, *TEST_DEPS)
    # One emulator per xdist worker (each on its own ports and PAM services).
    # Four workers even on two cores: much of the suite waits on servers, PAM verifier processes
    # and subprocess clients rather than computing (measured: 4141 tests in ~3 min here).
    args = session.posargs or ["-n", str(max(4, os.cpu_count() or 1))]
    session.run("pytest", *args, env={"AWS_EC2_METADATA_DISABLED": "true"})
    if session.python == PYTHONS[0] and not session.posargs:
        session.install(*OLDEST_BOTOCORE)
        session.run("pytest", "-q", "tests/unit/test_signer_parity.py", "tests/unit/test_dsql.py")
        session.install(*OLDEST_DSQL_BOTOCORE)
        session.run("pytest", "-q", "tests/unit/test_dsql_parity.py")
        session.install("--upgrade", "botocore", "boto3")


@nox.session(python="3.11")
def tests_mysql_connector_cext(session: nox.Session) -> None:
    """mysql.connector's C extension: 26.x's needs OpenSSL >= 3.2 (Debian 12 has 3.0) and falls
    back to pure Python; 9.7.0's loads. The run fails if it does not load."""
    session.install(
        "-e", ".[mysql-connector,psycopg,pymysql]", "mysql-connector-python==9.7.0", *TEST_DEPS
    )
    session.run(
        "pytest",
        "-n",
        "auto",
        "tests/unit/test_driver_mysql_connector.py",
        "tests/integration/test_driver_mysql_connector.py",
        "tests/integration/test_examples_mysql_connector.py",
        "tests/security/test_driver_mysql_connector.py",
        *session.posargs,
        env={"AWS_EC2_METADATA_DISABLED": "true", "RDS_IAM_AUTH_REQUIRE_MYSQL_CEXT": "1"},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package."""
    session.install(
        "-e",
        ".[all,sqlalchemy,psycopg-pool,django]",  # the integrations import them
        "pytest>=8",  # the pytest plugin imports it
        "mypy==2.4.1",
        "botocore-stubs",
        "types-PyMySQL",
        "types-psycopg2",
        "types-mysqlclient",
    )
    session.run("mypy")
    session.run("mypy", "--strict", "tests/typing")  # the connection type per driver=


@nox.session
def demo(session: nox.Session) -> None:
    """End to end: start the emulator, sign like `aws rds generate-db-auth-token`, connect."""
    session.install("-e", ".[all]", "trustme>=1.1")
    if os.name == "posix" and os.geteuid() == 0 and shutil.which("apt-get"):
        # Installs only what is missing (PostgreSQL, MariaDB, pam_script); a no-op after that.
        session.run("bash", "tests/emulator/install.sh", external=True)
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the boto3 recipe; prints ratios, writes benchmarks/results/."""
    # awscli: item 13 races `rds-iam-auth token` against `aws rds generate-db-auth-token`.
    session.install("-e", ".[all]", "boto3>=1.34", "trustme>=1.1", "awscli>=1.34")
    session.run("python", "-m", "benchmarks", *session.posargs)


DOCS_DEPS = [
    "mkdocs==1.6.1",
    "mkdocs-material==9.8.2",
    "mkdocstrings==1.0.8",
    "mkdocstrings-python==2.0.11",
    "ruff==0.17.6",  # mkdocstrings formats the API signatures with it
]


def _venv_python(venv: str) -> str:
    return os.path.join(venv, "Scripts" if os.name == "nt" else "bin", "python")


@nox.session
def build(session: nox.Session) -> None:
    """sdist and wheel into dist/, twine check --strict, the wheel's contents, then the wheel
    alone (with its declared dependencies) in a fresh virtualenv: import cost, a token signed
    offline, the CA resolved to the shipped bundle with no network; then the SQLAlchemy URL
    plugin's entry point from the wheel (tests/packaging/plugin_smoke.py)."""
    session.install("build==1.6.1", "twine==7.0.0")
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist")
    artifacts = sorted(os.path.join("dist", name) for name in os.listdir("dist"))
    session.run("twine", "check", "--strict", *artifacts)
    session.run("python", "tests/packaging/check_wheel.py", "dist")
    wheel = os.path.abspath(next(a for a in artifacts if a.endswith(".whl")))
    smoke = os.path.abspath("tests/packaging/wheel_smoke.py")
    fresh = os.path.abspath(os.path.join(session.create_tmp(), "wheel-only"))
    shutil.rmtree(fresh, ignore_errors=True)
    session.run("python", "-m", "venv", fresh)
    python = _venv_python(fresh)
    session.run(python, "-m", "pip", "install", "--quiet", wheel, external=True)
    with session.chdir(session.create_tmp()):  # outside the checkout: the installed copy only
        session.run(python, "-I", smoke, external=True)
    plugin_smoke = os.path.abspath("tests/packaging/plugin_smoke.py")
    with_sqlalchemy = os.path.abspath(os.path.join(session.create_tmp(), "wheel-sqlalchemy"))
    shutil.rmtree(with_sqlalchemy, ignore_errors=True)
    session.run("python", "-m", "venv", with_sqlalchemy)
    python = _venv_python(with_sqlalchemy)
    session.run(
        python, "-m", "pip", "install", "--quiet", f"{wheel}[sqlalchemy,pymysql]", external=True
    )
    with session.chdir(session.create_tmp()):
        session.run(python, "-I", plugin_smoke, external=True)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (MkDocs + mkdocstrings), warnings as errors."""
    session.install("-e", ".", *DOCS_DEPS)
    site = os.path.join(session.create_tmp(), "site")
    env = {"NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life banner, not about our docs
    session.run("mkdocs", "build", "--strict", "--site-dir", site, *session.posargs, env=env)
    session.log(f"site built in {site}")
