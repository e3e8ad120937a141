"""What a refused login says: what was signed and the likely causes, most likely first.

Never the token: only its key id (not a secret) and expiry.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._login import Target
    from .token import Token

__all__ = ["key_id", "refusal_notes"]


_KEY_ID = re.compile(r"[?&]X-Amz-Credential=([A-Z0-9]{16,128})%2F")


def key_id(token: Token) -> str | None:
    """The access key id a token was signed with (not a secret), if it is a SigV4 token."""
    match = _KEY_ID.search(token.value)
    return match.group(1) if match else None


def refusal_notes(target: Target, token: Token, *, retried: bool) -> list[str]:
    """What was signed and the likely causes of a refusal, most likely first; never the token."""
    key = target.key
    endpoint = key.endpoint
    engine = "PostgreSQL" if target.adapter.DEFAULT_PORT == 5432 else "MySQL"
    expires = token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    dialled = f", dialled {target.address.host}:{target.address.port}" if target.address else ""
    twice = " twice (the second freshly signed)" if retried else ""
    signed = (
        f"rds_iam_auth: the server refused the IAM token{twice}. Signed for host "
        f"{endpoint.host!r} port {endpoint.port}{dialled}, user {key.user!r}, region "
        f"{endpoint.region} (from {key.region_source}), key {key_id(token) or '(not SigV4)'}, "
        f"expires {expires}."
    )
    causes: list[str] = []
    if key.region_source != "the host name":
        causes.append(
            f"the region: {endpoint.region} came from {key.region_source}; it must be the "
            "region of the database"
        )
    if endpoint.kind == "custom":
        causes.append(
            f"the host name: the token is valid only for the endpoint name RDS knows, not "
            f"{endpoint.host!r} (an IP, CNAME or tunnel): pass the RDS endpoint as host and "
            "dial the other name with address="
        )
    if endpoint.kind == "dsql":
        return [signed, "Likely causes, most likely first:"] + [
            f"  {n}. {cause}" for n, cause in enumerate(causes + _dsql_causes(target), 1)
        ]
    if engine == "PostgreSQL":
        causes.append(f'the database user: run GRANT rds_iam TO "{key.user}";')
    else:
        causes.append(
            f"the database user: CREATE USER '{key.user}' IDENTIFIED WITH "
            "AWSAuthenticationPlugin AS 'RDS' (Aurora/RDS MySQL) and REQUIRE SSL"
        )
    causes.append(
        "expired or revoked temporary credentials (an ended SSO session, a rotated role): "
        "sign in again or let the credentials refresh"
    )
    causes.append(
        f"the IAM policy: the caller needs rds-db:connect on arn:aws:rds-db:{endpoint.region}:"
        f"<account>:dbuser:<DbiResourceId or cluster resource id>/{key.user} (the resource id, "
        "not the instance name)"
    )
    return [signed, "Likely causes, most likely first:"] + [
        f"  {n}. {cause}" for n, cause in enumerate(causes, 1)
    ]


def _dsql_causes(target: Target) -> list[str]:
    from ._dsql import ADMIN_USER, dsql_action

    key = target.key
    action = dsql_action(key.user)
    causes = []
    if key.user != ADMIN_USER:
        causes.append(
            f'the database role: connected as {ADMIN_USER}, run AWS IAM GRANT "{key.user}" TO '
            "'arn:aws:iam::<account>:role/<your role>'; (and CREATE ROLE ... WITH LOGIN first)"
        )
    causes.append(
        "expired or revoked temporary credentials (an ended SSO session, a rotated role): "
        "sign in again or let the credentials refresh"
    )
    causes.append(
        f"the IAM policy: the caller needs dsql:{action} on arn:aws:dsql:"
        f"{key.endpoint.region}:<account>:cluster/<cluster id> ({ADMIN_USER} needs "
        "DbConnectAdmin, every other role DbConnect; a signer forced to the other action fails)"
    )
    return causes
