"""Property: whatever driver keywords a caller passes, the token reaches no unverified server.

Hypothesis draws keyword names -- every option libpq and PyMySQL know, the same names perturbed
the ways that slipped past a denylist (surrounding spaces, ``=``, quotes, NUL, case, look-alike
letters, ``"application_name=x "`` prefixes), and arbitrary text -- with values that matter to
TLS (``disable``, ``0``, the rogue CA, ...) or arbitrary ones, and aims ``connect`` and the raw
driver fed by ``connect_kwargs`` at a plaintext and an untrusted decoy. Each attempt must end in
``ConfigurationError``, the driver's unknown-keyword / connection error, or some other error
raised before anything was dialled; and the decoys must never see the token.

Values of host- and keylog-like names are replaced with loopback / a private path first, so
fuzzing never resolves names or writes files outside its own directory.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rds_iam_auth import Connector
from rds_iam_auth.testing import StaticSigner

from ._common import REFUSALS, TOKEN, USER, assert_empty, assert_no_leak, psycopg, pymysql
from .decoys import Decoy, Pki

LIBPQ = [opt.keyword.decode() for opt in psycopg.pq.Conninfo.get_defaults()] + ["requiressl"]
PYMYSQL = [n for n in inspect.signature(pymysql.connections.Connection).parameters if n != "args"]
PSYCOPG = ["autocommit", "prepare_threshold", "context", "row_factory", "cursor_factory"]
OURS = ["address", "conninfo", "ssl", "tls", "ca"]
KNOWN = sorted(set(LIBPQ + PYMYSQL + PSYCOPG + OURS) - {"kwargs"})
_AROUND = [" ", "  ", "\t", "\n", "=", "'", '"', "\\", "\x00", "\u00a0", "\u3000", "\ufeff"]
_CHARS = [c for c in _AROUND if len(c) == 1]
_PERTURB: list[Callable[[str, str], str]] = [
    lambda n, c: n + c,
    lambda n, c: c + n,
    lambda n, c: c + n + c,
    lambda n, c: "application_name=x " + n,
    lambda n, c: n.upper(),
    lambda n, c: n.replace("_", "-"),
    lambda n, c: n.replace("e", "\u0435", 1),  # Cyrillic e
    lambda n, c: n + "=" + c,
]
NAMES = st.one_of(
    st.sampled_from(KNOWN),
    st.builds(
        lambda n, f, c: f(n, c),
        st.sampled_from(KNOWN),
        st.sampled_from(_PERTURB),
        st.sampled_from(_AROUND),
    ),
    st.text(st.characters(codec="utf-8") | st.sampled_from(_CHARS), min_size=1, max_size=16),
)
# Placeholders are filled in per test: the strategies must not depend on fixtures.
INTERESTING = [
    "disable", "allow", "prefer", "require", "verify-ca", "0", "1", "yes", "no", "off", "system",
    "direct", "any", "{rogue}", "{trusted}", "127.0.0.1", "x sslmode=disable", "x' sslmode='a",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=24),
    st.integers(-2, 70_000),
    st.booleans(),
    st.none(),
)
KWARGS = st.dictionaries(NAMES, VALUES, min_size=1, max_size=3)
_HOSTLIKE = {"host", "hostaddr", "address", "bind_address", "bind-address", "unix_socket"}
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BYPASSES = [
    {"sslmode ": "disable"},
    {" sslmode": "disable"},
    {"requiressl": "0"},
    {"application_name=x sslmode": "disable"},
    {"sslrootcert ": "{rogue}"},
    {"application_name=x sslrootcert": "{rogue}"},
    {"ssl_disabled": True},
    {"ssl_ca": "{rogue}"},
]


class Target:
    """Module-scoped decoys and connector for one driver (Hypothesis reuses them per example)."""

    def __init__(self, protocol: str, pki: Pki, directory: Path) -> None:
        self.decoys = [
            Decoy(protocol, m, pki, max_connections=100_000) for m in ("plaintext", "untrusted")
        ]
        self.pki = pki
        self.directory = directory
        self.keylog = directory / "keys.log"
        self.connector = Connector(
            signer=StaticSigner(TOKEN), ca=pki.trusted_ca_path, region="us-east-1"
        )

    def close(self) -> None:
        self.connector.close()
        for decoy in self.decoys:
            decoy.close()

    def fill(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Placeholders → paths; host- and keylog-like names → safe values."""
        paths = {"{rogue}": self.pki.rogue_ca_path, "{trusted}": self.pki.trusted_ca_path}
        filled = {}
        for name, drawn in kwargs.items():
            words = set(re.split(r"[^a-z_-]+", name.lower()))
            if any("keylog" in w for w in words):
                filled[name] = str(self.keylog)
            elif words & _HOSTLIKE:
                filled[name] = "127.0.0.1"
            else:
                filled[name] = paths.get(drawn, drawn) if isinstance(drawn, str) else drawn
        return filled


def _check(decoy: Decoy, attempt: Callable[[], Any]) -> None:
    """``attempt()``, aimed at ``decoy``, must be refused and leak nothing.

    Any other exception, or a connection object returned (``defer_connect``), is acceptable
    only if nothing was dialled: the driver rejected a value, or was told to connect later.
    """
    before, mark = decoy.connections, decoy.mark()
    outcome: object = None
    try:
        attempt().close()
    except REFUSALS:
        pass
    except Exception as exc:
        outcome = exc
    else:
        outcome = "a connection object"
    if outcome is not None:
        assert decoy.connections == before, f"{outcome!r} after dialling {decoy!r}"
    assert_no_leak(decoy, since=mark)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The working directory while fuzzing: a relative path in a value lands here, not in the
    checkout; it must end up empty but for the key log (which must itself stay empty)."""
    directory = tmp_path_factory.mktemp("fuzz-cwd")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(directory)
        yield directory
    assert set(os.listdir(directory)) <= {"keys.log"}


@pytest.fixture(scope="module", params=["psycopg", "pymysql"])
def target(
    request: pytest.FixtureRequest, pki: Pki, fuzz_dir: Path
) -> Iterator[tuple[str, Target]]:
    driver = request.param
    t = Target("pg" if driver == "psycopg" else "mysql", pki, fuzz_dir)
    yield driver, t
    t.close()


def _examples(test: Any) -> Any:
    for kwargs in BYPASSES:
        test = example(kwargs=kwargs)(test)
    return test


@_examples
@SETTINGS
@given(kwargs=KWARGS)
def test_connect_never_leaks(target: tuple[str, Target], kwargs: dict[str, Any]) -> None:
    driver, t = target
    filled = t.fill(kwargs)
    t.keylog.unlink(missing_ok=True)  # so a key log is blamed on the example that wrote it
    for decoy in t.decoys:

        def attempt(d: Decoy = decoy) -> Any:
            # A drawn "port" or "driver" collides with ours: a TypeError, never an override.
            return t.connector.connect(d.host, USER, driver=driver, port=d.port, **filled)

        _check(decoy, attempt)
    assert_empty(t.keylog)


@_examples
@SETTINGS
@given(kwargs=KWARGS)
def test_connect_kwargs_never_leak(target: tuple[str, Target], kwargs: dict[str, Any]) -> None:
    driver, t = target
    connect = psycopg.connect if driver == "psycopg" else pymysql.connect
    filled = t.fill(kwargs)
    t.keylog.unlink(missing_ok=True)
    for decoy in t.decoys:
        try:
            driver_kwargs = t.connector.connect_kwargs(
                decoy.host, USER, driver=driver, port=decoy.port, **filled
            )
        except REFUSALS:
            continue
        _check(decoy, functools.partial(connect, **driver_kwargs))
    assert_empty(t.keylog)
