"""The likely causes of a failed IAM login, most likely first, from ``doctor``'s facts (pure).

Each cause gets a weight from the evidence: 3 when a fact shows it (a failed TLS check, STS
rejecting the key, a region that contradicts the host name, the server treating the user as a
password user), 2 when nothing rules it out and it is a usual suspect (a region taken from the
profile's default for a host name that names none, the IAM policy once STS vouched for the
key), 1 when it is possible but a fact speaks against it, 0 when ruled out (left out). Equal
weights keep the order of ``_TEXTS``, the order in which they are worth checking.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SKEW_LIMIT_S", "rank"]

SKEW_LIMIT_S = 300
"""RDS refuses tokens dated more than about 5 minutes ahead, and expires them after 15."""

# id -> (title, how to check); {placeholders} come from the facts. In tie-break order.
_TEXTS = {
    "network": (
        "the server cannot be reached",
        "check the port, the security group / network ACL, the VPC route or the tunnel; "
        "with a tunnel pass --address 127.0.0.1:<local port>",
    ),
    "engine": (
        "the server is not a {engine} server",
        "pass --engine postgres or --engine mysql (and the port of that server)",
    ),
    "tls-off": (
        "the server does not offer TLS",
        "RDS always offers TLS: check that --hostname / --port / --address reach the database, "
        "not a local server or a plain-TCP proxy",
    ),
    "tls-ca": (
        "the CA bundle does not verify the server's certificate",
        "an Amazon RDS CA newer than the bundle: rds-iam-auth ca update (or --from FILE); "
        "another issuer: check --hostname / --address, or pass --ca with that CA's bundle",
    ),
    "host": (
        "the token is signed for a name the database does not go by",
        "sign for the endpoint name and dial yours: --hostname {suggest} --address {dial}",
    ),
    "clock": (
        "this machine's clock is {skew} s {direction} {against}",
        "synchronise the clock (timedatectl set-ntp true, chrony)",
    ),
    "credentials": (
        "no usable AWS credentials",
        "set AWS_PROFILE or the AWS_* key variables, or aws configure / aws sso login; on EC2, "
        "ECS or EKS check the instance profile, task role or service account role",
    ),
    "credentials-expired": (
        "the AWS credentials have expired",
        "renew them where they come from (aws sso login, assume the role again, a fresh "
        "AWS_SESSION_TOKEN) and retry",
    ),
    "key-unknown": (
        "{what}",
        "check AWS_ACCESS_KEY_ID / the profile (a typo, a deleted or deactivated key, a key of "
        "another partition); aws sts get-caller-identity shows who you are (a key AWS does not "
        "know and a denying policy look the same at the database)",
    ),
    "database": (
        "the login worked, the database did not",
        "check --dbname and the user's privileges on it",
    ),
    "region": (
        "the token is signed for {region}, not the database's region",
        "the region is part of the endpoint name (...<region>.rds.amazonaws.com): pass "
        "--region with the database's region",
    ),
    "grant": ("the database user {maybe}not set up for IAM authentication", "{grant}"),
    "cleartext": (
        "the client's TLS or cleartext-plugin settings",
        "enable the cleartext plugin (--enable-cleartext-plugin, "
        "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN=1) and verified TLS; rds-iam-auth mysql sets both",
    ),
    "ecs-role": (
        "on ECS the application signs with the task role",
        "attach the rds-db:connect policy to the task definition's taskRoleArn, not to its "
        "executionRoleArn",
    ),
    "policy": (
        "the IAM policy of {who} does not allow {action} here",
        "allow {action} on {resource} ({hint}); check with aws iam simulate-principal-policy "
        "--policy-source-arn {arn} --action-names {action} --resource-arns <that ARN>",
    ),
}
_ORDER = tuple(_TEXTS)
_UNKNOWN_KEY = ("InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException")


def _cause(cause_id: str, weight: int, evidence: str, **values: Any) -> dict[str, Any]:
    title, check = _TEXTS[cause_id]
    return {
        "id": cause_id,
        "weight": weight,
        "title": title.format(**values),
        "evidence": evidence,
        "check": check.format(**values),
    }


def _tls(facts: dict[str, Any]) -> list[dict[str, Any]]:
    target, tls = facts["target"], facts["tls"]
    reason = str(tls.get("reason"))
    if tls.get("reason") and not tls.get("reachable", True):
        return [_cause("network", 3, reason)]
    if tls.get("refused_tls") == "engine":
        return [_cause("engine", 3, reason, engine=target["engine"])]
    if tls.get("refused_tls") == "no-tls":
        return [_cause("tls-off", 3, reason)]
    if tls.get("chain_ok") is False:
        issuer = tls.get("issuer") or "an issuer that could not be read"
        evidence = (
            f"{reason}; the certificate is issued by {issuer}, checked against {tls['ca_path']}"
        )
        return [_cause("tls-ca", 3, evidence)]
    return []


def _host(facts: dict[str, Any]) -> list[dict[str, Any]]:
    target, tls = facts["target"], facts["tls"]
    names = [name for name in tls.get("names", ()) if name != target["host"]]
    rds_alias = facts["dns"].get("rds_alias")
    dial = target.get("address") or f"{target['host']}:{target['port']}"
    if tls.get("name_ok") is False:
        shown = ", ".join(names) or "other hosts"
        evidence = f"the server's certificate names {shown}, not {target['host']!r}"
        suggest = rds_alias or (names[0] if names else "<the endpoint name>")
        return [_cause("host", 3, evidence, suggest=suggest, dial=dial)]
    if rds_alias:
        evidence = f"{target['host']!r} is an alias (CNAME) of {rds_alias}"
        return [_cause("host", 3, evidence, suggest=rds_alias, dial=dial)]
    if target["kind"] == "custom":
        evidence = (
            f"{target['host']!r} is not an RDS host name; its certificate matches, so only "
            "a suspect through a tunnel or a proxy"
        )
        return [_cause("host", 1, evidence, suggest="<the endpoint name>", dial=dial)]
    return []


def _clock(facts: dict[str, Any]) -> list[dict[str, Any]]:
    clock = facts["clock"]
    skew = clock.get("skew_s")
    if skew is None or abs(skew) <= SKEW_LIMIT_S:
        return []
    evidence = "tokens are refused when dated more than 5 minutes ahead, or 15 minutes old"
    direction = "behind" if skew > 0 else "ahead of"
    return [
        _cause(
            "clock",
            3,
            evidence,
            skew=f"{abs(skew):.0f}",
            direction=direction,
            against=clock["against"],
        )
    ]


def _credentials(facts: dict[str, Any]) -> list[dict[str, Any]]:
    creds, ident = facts["credentials"], facts["identity"]
    found = []
    if creds.get("expired") or ident.get("code") == "ExpiredToken":
        evidence = creds.get("error") or f"STS: {ident.get('error')}"
        found.append(_cause("credentials-expired", 3, evidence))
    elif not creds.get("ok"):
        found.append(_cause("credentials", 3, str(creds.get("error"))))
    if ident.get("code") in _UNKNOWN_KEY:
        what = "AWS does not know this access key"
        if ident["code"] == "SignatureDoesNotMatch":
            what = "the secret key does not belong to this key id"
        evidence = f"sts:GetCallerIdentity answered {ident['code']} for key {creds.get('key_id')}"
        found.append(_cause("key-unknown", 3, evidence, what=what))
    elif ident.get("ok") is None and creds.get("ok"):
        evidence = f"not checked: {ident.get('error') or 'STS was not asked'}"
        found.append(_cause("key-unknown", 1, evidence, what="AWS may not know this access key"))
    arn = str(ident.get("arn") or "")
    if creds.get("origin") == "container-role" or "executionrole" in arn.lower():
        evidence = f"credentials from the container endpoint ({arn or 'identity unknown'})"
        found.append(_cause("ecs-role", 3 if "executionrole" in arn.lower() else 2, evidence))
    return found


def _region(facts: dict[str, Any]) -> list[dict[str, Any]]:
    target, dns = facts["target"], facts["dns"]
    if facts["login"].get("verdict") not in ("token-refused", None):
        return []  # the server told us something else
    region, source = target["region"], target["region_source"]
    if target["host_region"] and region != target["host_region"]:
        weight = 3
        evidence = (
            f"signed for {region} (from {source}), but the host name says {target['host_region']}"
        )
    elif dns.get("rds_region") and dns["rds_region"] != region:
        weight = 3
        evidence = (
            f"signed for {region}, but the host is an alias of an endpoint in {dns['rds_region']}"
        )
    elif not target["host_region"]:
        # A region given with --region is the user's claim; one from a default is a guess.
        weight = 1 if source == "--region" else 2
        evidence = f"signed for {region} (from {source}); the host name names no region to check"
    else:
        return []
    return [_cause("region", weight, evidence, region=region)]


def _database_user(facts: dict[str, Any]) -> list[dict[str, Any]]:
    target, login = facts["target"], facts["login"]
    verdict, message = login.get("verdict"), str(login.get("message"))
    user = target["user"]
    if target["engine"] == "postgres":
        grant = f'as an admin: GRANT rds_iam TO "{user}";'
    else:
        grant = (
            f"as an admin: CREATE USER '{user}' IDENTIFIED WITH AWSAuthenticationPlugin AS "  # noqa: S608 - advice
            "'RDS' REQUIRE SSL; (MariaDB on RDS: IDENTIFIED VIA pam); to see the user's "
            "plugin: SELECT user, plugin FROM mysql.user"
        )
    if verdict == "not-iam-user":
        evidence = f"the server did not try IAM for it: {message}"
        return [_cause("grant", 3, evidence, maybe="is ", grant=grant)]
    if verdict == "token-refused" and target["engine"] == "mysql":
        evidence = "MySQL answers 1045 both for a refused token and for a password user"
        return [_cause("grant", 2, evidence, maybe="may not be ", grant=grant)]
    if verdict == "no-database":
        return [_cause("database", 3, message)]
    if verdict in ("cleartext", "tls"):
        return [_cause("cleartext", 3, message)]
    return []


def _policy(facts: dict[str, Any]) -> list[dict[str, Any]]:
    target, ident = facts["target"], facts["identity"]
    if facts["login"].get("verdict") != "token-refused":
        return []
    account = ident.get("account") or "<account>"
    if target["kind"] == "dsql":
        cluster = target["host"].split(".")[0]
        resource = f"arn:aws:dsql:{target['region']}:{account}:cluster/{cluster}"
        action = "dsql:DbConnectAdmin" if target["user"] == "admin" else "dsql:DbConnect"
        hint = "the cluster id is the first label of the host name"
    else:
        resource_id = "<DbiResourceId or cluster resource id>"
        resource = (
            f"arn:aws:rds-db:{target['region']}:{account}:dbuser:{resource_id}/{target['user']}"
        )
        action = "rds-db:connect"
        hint = (
            "the resource id: db-ABCDEFGHIJKL from aws rds describe-db-instances --query "
            "'DBInstances[].DbiResourceId', or a cluster's cluster-ABCDEFGHIJKL, not its name"
        )
    vouched = bool(ident.get("ok"))
    evidence = "the database refused the token"
    if vouched:
        evidence = "STS vouches for the key, yet the database refused the token"
    return [
        _cause(
            "policy",
            2 if vouched else 1,
            evidence,
            who=ident.get("arn") or "the caller",
            arn=ident.get("arn") or "<your user or role ARN>",
            action=action,
            resource=resource,
            hint=hint,
        )
    ]


def rank(facts: dict[str, Any]) -> list[dict[str, Any]]:
    """The causes the facts leave open, most likely first (heaviest, then ``_TEXTS``' order)."""
    if facts["login"].get("status") == "ok":
        return []
    found = []
    for part in (_tls, _host, _clock, _credentials, _region, _database_user, _policy):
        found += part(facts)
    found = [cause for cause in found if cause["weight"] > 0]
    return sorted(found, key=lambda cause: (-cause["weight"], _ORDER.index(cause["id"])))
