"""No psycopg keyword spelling gets the token to a decoy or writes TLS session keys.

Each case is a way a review found (or could find) past a keyword denylist: libpq's deprecated
``requiressl``, names that libpq's conninfo parser trims (``"sslmode "``) or splits
(``"application_name=x sslmode"``), values that try to inject options, a second conninfo string,
and options that move the connection or log its keys. The connector must refuse each one
(``ConfigurationError``) or pass it on harmlessly (the decoy still gets nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ._common import USER, Kit, assert_attempt_refused, assert_empty, connect_to
from .decoys import ATTACK_MODES, LOOPBACK_MODES, Decoy

Build = Callable[[Kit, Decoy], dict[str, Any]]


def _fixed(kwargs: dict[str, Any], id: str) -> Any:
    return pytest.param(lambda _kit, _decoy: kwargs, id=id)


def _passfile(kit: Kit, decoy: Decoy) -> dict[str, Any]:
    path = kit.tmp_path / "pgpass"
    path.write_text(f"*:*:*:*:not-the-token\n127.0.0.1:{decoy.port}:*:*:other\n")
    path.chmod(0o600)
    return {"passfile": str(path)}


ATTACKS = [
    *(_fixed({"requiressl": v}, f"requiressl={v}") for v in ("0", "1", "yes")),
    *(
        _fixed({"sslmode": v}, f"sslmode={v}")
        for v in ("disable", "allow", "prefer", "require", "verify-ca")
    ),
    _fixed({"sslmode ": "disable"}, "'sslmode '=disable"),
    _fixed({" sslmode": "disable"}, "' sslmode'=disable"),
    _fixed({"\tsslmode\n": "disable"}, "'<tab>sslmode<nl>'=disable"),
    _fixed({"sslmode=": "disable"}, "'sslmode='=disable"),
    _fixed({"SSLMODE": "disable"}, "SSLMODE=disable"),
    _fixed({"application_name=x sslmode": "disable"}, "'application_name=x sslmode'=disable"),
    _fixed({"requiressl ": "0"}, "'requiressl '=0"),
    pytest.param(lambda k, _d: {"sslrootcert ": k.rogue_ca}, id="'sslrootcert '=rogue"),
    pytest.param(lambda k, _d: {"sslrootcert": k.rogue_ca}, id="sslrootcert=rogue"),
    _fixed({"sslrootcert": "system"}, "sslrootcert=system"),
    pytest.param(
        lambda k, _d: {"application_name=x sslrootcert": k.rogue_ca}, id="split-sslrootcert"
    ),
    _fixed({"dbname": "x sslmode=disable"}, "dbname-value-injection"),
    _fixed({"dbname": "x' sslmode='disable"}, "dbname-quote-injection"),
    _fixed({"dbname": "x\x00"}, "dbname-NUL"),
    _fixed({"options": "-c x=1' sslmode='disable"}, "options-quote-injection"),
    _fixed({"application_name": "a\\' sslmode=disable"}, "backslash-quote-injection"),
    _fixed({"sslnegotiation": "direct"}, "sslnegotiation=direct"),
    _fixed({"sslsni": "0"}, "sslsni=0"),
    _fixed({"gssencmode": "prefer"}, "gssencmode=prefer"),
    _fixed({"gssencmode": "require"}, "gssencmode=require"),
    _fixed({"ssl_min_protocol_version": "TLSv1"}, "ssl_min_protocol_version=TLSv1"),
    _fixed({"sslcertmode": "disable"}, "sslcertmode=disable"),
    _fixed({"hostaddr": "127.0.0.1"}, "hostaddr"),
    _fixed({"hostaddr ": "127.0.0.1"}, "'hostaddr '"),
    _fixed({"conninfo": "host=127.0.0.1 sslmode=disable"}, "conninfo-sslmode"),
    pytest.param(lambda k, _d: {"conninfo": f"sslrootcert={k.rogue_ca}"}, id="conninfo-rootcert"),
    pytest.param(
        lambda _k, d: {"conninfo": f"hostaddr=127.0.0.1 port={d.port}"}, id="conninfo-hostaddr"
    ),
    _fixed({"service": "decoy"}, "service"),
    pytest.param(_passfile, id="passfile"),
    _fixed({"target_session_attrs": "any"}, "target_session_attrs=any"),
    _fixed({"load_balance_hosts": "random"}, "load_balance_hosts=random"),
    _fixed({"password ": "other"}, "'password '"),
    _fixed({"user ": "other"}, "'user '"),
    _fixed({"port ": "1"}, "'port '"),
]

KEYLOG_ATTACKS = [
    pytest.param(lambda k, _d: {"sslkeylogfile": str(k.keylog)}, id="sslkeylogfile"),
    pytest.param(lambda k, _d: {"sslkeylogfile ": str(k.keylog)}, id="'sslkeylogfile '"),
    pytest.param(lambda k, _d: {"application_name=x sslkeylogfile": str(k.keylog)}, id="split"),
    pytest.param(lambda k, _d: {"conninfo": f"sslkeylogfile={k.keylog}"}, id="conninfo"),
    pytest.param(lambda k, _d: {"dbname": f"x sslkeylogfile={k.keylog}"}, id="value-injection"),
]


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS)
def test_keyword_never_leaks_the_token(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    attempt = connect_to(kit.connector, decoy, "psycopg", **build(kit, decoy))
    assert_attempt_refused(attempt, decoy)


@pytest.mark.parametrize("mode", LOOPBACK_MODES)
@pytest.mark.parametrize("build", KEYLOG_ATTACKS)
def test_keyword_never_writes_tls_keys(kit: Kit, build: Build, mode: str) -> None:
    # The good decoy is included: keys of a *verified* session are what a key log exposes.
    decoy = kit.decoy("pg", mode)
    attempt = connect_to(kit.connector, decoy, "psycopg", **build(kit, decoy))
    assert_attempt_refused(attempt, *([] if mode == "good" else [decoy]))
    assert_empty(kit.keylog)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize(
    "host", ["127.0.0.1,127.0.0.1", "127.0.0.1 sslmode=disable", "127.0.0.1\x00", " 127.0.0.1"]
)
def test_host_argument_cannot_carry_conninfo(kit: Kit, host: str, mode: str) -> None:
    decoy = kit.decoy("pg", mode)

    def attempt() -> Any:
        return kit.connector.connect(host, USER, driver="psycopg", port=decoy.port)

    assert_attempt_refused(attempt, decoy)


@pytest.mark.parametrize("mode", ATTACK_MODES)
@pytest.mark.parametrize("build", ATTACKS[:12])
def test_creator_refuses_like_connect(kit: Kit, build: Build, mode: str) -> None:
    decoy = kit.decoy("pg", mode)
    kwargs = build(kit, decoy)

    def attempt() -> Any:
        create = kit.connector.creator(
            decoy.host, USER, driver="psycopg", port=decoy.port, **kwargs
        )
        return create()

    assert_attempt_refused(attempt, decoy)
