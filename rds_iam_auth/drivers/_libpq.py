"""What psycopg and psycopg2 share: libpq keywords, their policy and the refusal text.

libpq reads settings from three places besides the keywords we pass: environment variables
(``PGSSLMODE``, ``PGHOSTADDR``, ``PGGSSENCMODE``, ...), a service file (``PGSERVICE`` +
``pg_service.conf``) and, for ``requiressl``, its own translation into an ``sslmode`` that comes
after ours. Each of those only fills options that the conninfo leaves unset, so the connector
sets every option that concerns the target or TLS itself, to a value or to ``""`` (which libpq
treats as unset once it has stopped looking elsewhere):

- ``host``, ``port``, ``hostaddr`` (``""``, or the numeric ``address=``), ``user``, ``password``;
- ``sslmode`` (verify-full / verify-ca), ``sslrootcert``, ``ssl_min_protocol_version=TLSv1.2``;
- ``gssencmode=disable``: a GSS-encrypted session replaces TLS, and with it certificate
  verification, wherever Kerberos credentials exist (libpq before 18 defaults to ``prefer``);
- ``sslkeylogfile=""`` (libpq 18): a service file was shown to turn key logging on.

Callers may pass only the options in ``ALLOWED`` (plus psycopg's own keywords); every other
name, including misspellings with spaces (``"sslmode "``) and options a newer libpq adds, is
refused. A refused IAM login is ``FATAL:  PAM authentication failed for user "..."`` with no
SQLSTATE (libpq reports authentication failures before a session exists), as RDS sends it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigurationError
from ..tls import TlsSettings
from . import Address, ConnectKwargs
from ._policy import CONFIG_FILE, CREDENTIALS, KEYLOG, TARGET, TLS, KeywordPolicy

__all__ = [
    "ALLOWED",
    "OWNED",
    "PAM_REFUSED",
    "build_kwargs",
    "is_pam_refusal",
    "options_of_version",
    "policy",
]

PAM_REFUSED = "PAM authentication failed for user"

# libpq options that cannot move the token or weaken TLS.
ALLOWED = frozenset(
    {
        "dbname",
        "connect_timeout",
        "client_encoding",
        "options",
        "application_name",
        "fallback_application_name",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "target_session_attrs",
        "replication",
        "min_protocol_version",
        "max_protocol_version",
        # A client certificate adds to what the server checks; it changes nothing we verify.
        "sslcert",
        "sslkey",
        "sslpassword",
        "sslcertmode",
        "sslmode",  # only a value at least as strict as tls= asks for (checked below)
    }
)
_GSS = "GSSAPI is not used with IAM authentication, and GSS encryption would replace TLS"
OWNED: Mapping[str, str] = {
    "host": TARGET,
    "hostaddr": "to dial another address (tunnels, port-forwards) pass address='ip:port'",
    "port": TARGET,
    "user": TARGET,
    "password": CREDENTIALS,
    "passfile": CREDENTIALS,
    "require_auth": CREDENTIALS,
    "channel_binding": CREDENTIALS,
    "scram_client_key": CREDENTIALS,
    "scram_server_key": CREDENTIALS,
    "oauth_issuer": CREDENTIALS,
    "oauth_client_id": CREDENTIALS,
    "oauth_client_secret": CREDENTIALS,
    "oauth_scope": CREDENTIALS,
    "krbsrvname": _GSS,
    "gsslib": _GSS,
    "gssdelegation": _GSS,
    "gssencmode": _GSS,
    "service": CONFIG_FILE,
    "servicefile": CONFIG_FILE,
    "conninfo": CONFIG_FILE.replace("a configuration file", "a conninfo string"),
    "dsn": CONFIG_FILE.replace("a configuration file", "a DSN string"),
    "requirepeer": TARGET,
    "load_balance_hosts": "the connector connects to one host",
    "requiressl": TLS,
    "sslrootcert": TLS,
    "sslcrl": TLS,
    "sslcrldir": TLS,
    "sslsni": TLS,
    "sslnegotiation": TLS,
    "sslcompression": TLS,
    "ssl_min_protocol_version": TLS,
    "ssl_max_protocol_version": TLS,
    "sslkeylogfile": KEYLOG,
}
# libpq modes that verify at least what each tls= setting asks for.
_ACCEPTED_SSLMODES = {"verify-full": ("verify-full",), "verify-ca": ("verify-ca", "verify-full")}


def is_pam_refusal(exc: BaseException, module: str, code_attribute: str) -> bool:
    """Whether ``exc`` is ``module``'s OperationalError for a refused PAM login: no SQLSTATE
    (``code_attribute``: psycopg's ``sqlstate``, psycopg2's ``pgcode``) and libpq's FATAL text.

    The driver is looked up, not imported: if it is not loaded, ``exc`` cannot be its error.
    """
    driver = sys.modules.get(module)
    if driver is None or not isinstance(exc, driver.OperationalError):
        return False
    return getattr(exc, code_attribute) is None and PAM_REFUSED in str(exc)


def policy(driver: str, driver_keywords: Iterable[str] = ()) -> KeywordPolicy:
    """The keyword policy of a libpq driver: libpq's safe options plus its own keywords."""
    extra = frozenset(driver_keywords)
    return KeywordPolicy(driver, ALLOWED | extra, OWNED, any_value=extra)


def build_kwargs(
    rules: KeywordPolicy,
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    tls: TlsSettings,
    address: Address | None,
    hostaddr: str | None,
    user_kwargs: Mapping[str, Any],
    known: frozenset[str] | None,
) -> ConnectKwargs:
    """libpq connect keywords with every target and TLS option set by us.

    Args:
        rules: The driver's keyword policy.
        host, port, user, password: The endpoint (as signed) and the token.
        tls: The verification to apply.
        address: Where to dial instead of host:port, if anywhere.
        hostaddr: ``address`` as a numeric IP (libpq's hostaddr takes no names).
        user_kwargs: The caller's keywords.
        known: The options of the loaded libpq, or None if unknown.
    """
    extra = rules.check(user_kwargs, known) if user_kwargs else {}
    sslmode = extra.pop("sslmode", tls.mode)
    if sslmode not in _ACCEPTED_SSLMODES[tls.mode]:
        raise ConfigurationError(
            f"{rules.driver}: sslmode={sslmode!r} would weaken TLS; the connector uses "
            f"sslmode={tls.mode!r}. To skip the host name check use tls='verify-ca'; for SSH "
            "tunnels and port-forwards pass address= and keep verify-full; there is no "
            "plaintext mode"
        )
    kwargs = ConnectKwargs(
        host=host,
        port=address.port if address is not None else port,
        hostaddr=hostaddr or "",
        user=user,
        password=password,
        sslmode=sslmode,
        sslrootcert=tls.ca_path,
    )
    kwargs.update(_pinned(known))
    kwargs.update(extra)
    return kwargs


@functools.lru_cache(maxsize=8)
def _pinned(known: frozenset[str] | None) -> dict[str, str]:
    return {k: v for k, v in _PINNED if known is None or k in known}


# Set whenever the loaded libpq knows them, so that neither the environment nor a service file
# can supply another value.
_PINNED = (
    ("gssencmode", "disable"),
    ("sslkeylogfile", ""),
    ("ssl_min_protocol_version", "TLSv1.2"),
)


# The conninfo options (PQconndefaults) of each libpq release, for drivers that cannot list
# them (psycopg2): option → the first PQlibVersion() that has it. Options of libpq 9.x that
# later releases dropped (tty, authtype) are left out: they are neither allowed nor owned, so
# they are refused by name before this set is consulted. requiressl is not in PQconndefaults
# since 9.3 (libpq maps it onto sslmode while parsing) and is owned. Checked against real
# libpq 15, 17 and 18 by tests/unit/test_driver_psycopg2.py.
_OPTIONS_SINCE: Mapping[str, int] = {
    **dict.fromkeys(
        (
            "service", "user", "password", "connect_timeout", "dbname", "host", "hostaddr",
            "port", "client_encoding", "options", "application_name",
            "fallback_application_name", "keepalives", "keepalives_idle",
            "keepalives_interval", "keepalives_count", "sslmode", "sslcert", "sslkey",
            "sslrootcert", "sslcrl", "requirepeer", "krbsrvname", "gsslib", "replication",
        ),
        90100,
    ),
    "sslcompression": 90200,
    "passfile": 100000,
    "target_session_attrs": 100000,
    "gssencmode": 120000,
    "tcp_user_timeout": 120000,
    "channel_binding": 130000,
    "sslpassword": 130000,
    "ssl_min_protocol_version": 130000,
    "ssl_max_protocol_version": 130000,
    "sslsni": 140000,
    "sslcrldir": 140000,
    "require_auth": 160000,
    "sslcertmode": 160000,
    "load_balance_hosts": 160000,
    "gssdelegation": 160000,
    "sslnegotiation": 170000,
    **dict.fromkeys(
        (
            "min_protocol_version", "max_protocol_version", "sslkeylogfile",
            "scram_client_key", "scram_server_key", "oauth_issuer", "oauth_client_id",
            "oauth_client_secret", "oauth_scope",
        ),
        180000,
    ),
}  # fmt: skip


@functools.lru_cache(maxsize=8)
def options_of_version(libpq_version: int) -> frozenset[str]:
    """The conninfo options of the libpq whose ``PQlibVersion()`` is ``libpq_version``.

    For drivers without an option-listing API (psycopg2 has ``libpq_version()`` only). A
    libpq newer than this table gets the newest options known here: an option it adds is then
    refused (if allowed) or not pinned, the same as for a driver that lists its options, where
    the allowlist refuses every name nobody has reviewed.
    """
    return frozenset(name for name, since in _OPTIONS_SINCE.items() if since <= libpq_version)
