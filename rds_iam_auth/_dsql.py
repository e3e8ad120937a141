"""Aurora DSQL facts: cluster host names, the two token actions, the token lifetime limit.

A DSQL token is the SigV4 presign of ``GET https://<host>/?Action=DbConnect`` (or
``DbConnectAdmin``) for service ``dsql``, without the ``https://``: no port and no user in it.
The database role ``admin`` logs in with a ``DbConnectAdmin`` token, every other role with a
``DbConnect`` one (botocore's ``generate_db_connect_admin_auth_token`` /
``generate_db_connect_auth_token``). DSQL accepts ``X-Amz-Expires`` up to one week, but a
connection lives at most one hour on the server whatever the token says: pools must recycle
connections before that.
"""

from __future__ import annotations

import re
from typing import Literal

from .endpoint import validate_region
from .errors import ConfigurationError

__all__ = [
    "ADMIN_USER",
    "DSQL_ACTIONS",
    "MAX_DSQL_EXPIRES_IN_S",
    "SERVICE",
    "DsqlAction",
    "dsql_action",
    "dsql_host",
    "validate_dsql_action",
]

DsqlAction = Literal["DbConnect", "DbConnectAdmin"]
DSQL_ACTIONS: tuple[DsqlAction, ...] = ("DbConnect", "DbConnectAdmin")
ADMIN_USER = "admin"
"""The role DSQL creates with each cluster; the only one that signs with DbConnectAdmin."""
MAX_DSQL_EXPIRES_IN_S = 604_800
"""DSQL accepts tokens valid for up to one week (botocore itself checks nothing)."""
SERVICE = "dsql"
_CLUSTER_ID = re.compile(r"[A-Za-z0-9]{1,63}")


def dsql_host(cluster_id: str, region: str) -> str:
    """Build the endpoint host name of an Aurora DSQL cluster.

    Args:
        cluster_id: The cluster identifier, e.g. ``"abcdefghijklmnopqrstuvwxyz"`` (26 letters
            and digits in the ARN and the console).
        region: The cluster's region, e.g. ``"us-east-1"``.

    Returns:
        ``"<cluster_id>.dsql.<region>.on.aws"``: pass it as ``host`` to ``connect()``.

    Raises:
        ConfigurationError: ``cluster_id`` is not letters and digits, or ``region`` is not a
            region name.
    """
    if not isinstance(cluster_id, str):
        raise ConfigurationError(f"cluster_id must be a str, got {type(cluster_id).__name__}")
    if not _CLUSTER_ID.fullmatch(cluster_id):
        # Not echoed: a connection string pasted here may hold a password.
        hint = ", not a host name: pass the host itself as host" if "." in cluster_id else ""
        raise ConfigurationError(
            "cluster_id must be a DSQL cluster identifier of 1..63 letters and digits, e.g. "
            f"'abcdefghijklmnopqrstuvwxyz'{hint}"
        )
    return f"{cluster_id}.dsql.{validate_region(region)}.on.aws"


def validate_dsql_action(action: object) -> DsqlAction:
    """Check that ``action`` is ``"DbConnect"`` or ``"DbConnectAdmin"`` and return it."""
    if action == "DbConnect":
        return "DbConnect"
    if action == "DbConnectAdmin":
        return "DbConnectAdmin"
    raise ConfigurationError(
        f"dsql_action must be 'DbConnect' or 'DbConnectAdmin' (or None: by user), got {action!r}"
    )


def dsql_action(user: str, override: DsqlAction | None = None) -> DsqlAction:
    """The action a DSQL token for ``user`` is signed with.

    Args:
        user: The database role; ``"admin"`` (exactly: role names are case-sensitive) gets
            ``DbConnectAdmin``, every other role ``DbConnect``.
        override: Sign with this action whatever the user (``None``: choose by user).
    """
    if override is not None:
        return override
    return "DbConnectAdmin" if user == ADMIN_USER else "DbConnect"
