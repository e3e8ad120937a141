"""psycopg (v3) adapter: libpq keywords with ``sslmode=verify-full`` and ``sslrootcert``."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError, DriverNotInstalledError
from ..tls import TlsSettings
from . import refuse_reserved

NAME = "psycopg"
DEFAULT_PORT = 5432
_RESERVED = ("password", "host", "hostaddr", "port", "user")
# libpq modes that verify at least what each tls= setting asks for.
_ACCEPTED_SSLMODES = {"verify-full": ("verify-full",), "verify-ca": ("verify-ca", "verify-full")}
_PAM_REFUSED = "PAM authentication failed for user"


def build_kwargs(
    *,
    host: str,
    port: int,
    user: str,
    password: str,
    tls: TlsSettings,
    user_kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    """Return ``psycopg.connect`` keywords; the token travels only as ``password``."""
    refuse_reserved(NAME, user_kwargs, _RESERVED)
    extra = dict(user_kwargs)
    sslmode = extra.pop("sslmode", tls.mode)
    if sslmode not in _ACCEPTED_SSLMODES[tls.mode]:
        raise ConfigurationError(
            f"psycopg: sslmode={sslmode!r} would weaken TLS; the connector uses "
            f"sslmode={tls.mode!r}. To skip the host name check (SSH tunnels) use "
            "tls='verify-ca'; there is no plaintext mode"
        )
    if "sslrootcert" in extra:
        raise ConfigurationError(
            "psycopg: pass the CA bundle with ca= (or RDS_IAM_AUTH_CA_BUNDLE), not sslrootcert="
        )
    kwargs: dict[str, Any] = {
        "host": host,
        "port": port,
        "user": user,
        "password": password,
        "sslmode": sslmode,
        "sslrootcert": tls.ca_path,
    }
    kwargs.update(extra)
    return kwargs


def connect(kwargs: Mapping[str, Any]) -> Any:
    """Open a ``psycopg.Connection``."""
    try:
        import psycopg
    except ImportError:
        raise DriverNotInstalledError(
            "driver='psycopg' needs psycopg 3: pip install 'rds-iam-auth[psycopg]'"
        ) from None
    return psycopg.connect(**kwargs)


def is_auth_refused(exc: BaseException) -> bool:
    """psycopg reports a refused PAM login with ``sqlstate`` None and libpq's FATAL text."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(exc, psycopg.OperationalError):
        return False
    return exc.sqlstate is None and _PAM_REFUSED in str(exc)
