"""``doctor``'s checklist: one ✔/✘ line per check a person reads at a glance, then the likely
causes with why and how to check each (``--json`` prints the facts instead)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._doctor_causes import SKEW_LIMIT_S

if TYPE_CHECKING:
    from ._output import Marks

__all__ = ["render"]

Line = tuple[str, str, str]  # (status, check, text)


def _target(t: dict[str, Any]) -> Line:
    status = "ok" if t["region_source"] == "the host name" else "info"
    if t["host_region"] and t["host_region"] != t["region"]:
        status = "fail"
    dialled = f", dialled at {t['address']}" if t["address"] else ""
    text = (
        f"{t['host']}:{t['port']} ({t['kind']}{dialled}), user {t['user']!r}, "
        f"region {t['region']} from {t['region_source']}"
    )
    return status, "target", text


def _credentials(creds: dict[str, Any]) -> Line:
    if not creds["ok"]:
        return "fail", "credentials", str(creds["error"])
    expiry = f"expires {creds['expiry']}" if creds["expiry"] else "no expiry (long-term key)"
    return "ok", "credentials", f"key {creds['key_id']} from {creds['origin']}, {expiry}"


def _identity(ident: dict[str, Any]) -> Line:
    if ident.get("ok"):
        return "ok", "identity", f"{ident['arn']} (sts:GetCallerIdentity)"
    if ident.get("checked"):
        return "fail", "identity", f"STS: {ident.get('code') or ''} {ident.get('error')}".strip()
    return "skip", "identity", f"not checked ({ident.get('error')})"


def _dns(dns: dict[str, Any], t: dict[str, Any]) -> Line:
    if dns["error"]:
        fine = " (dialling --address instead)" if t["address"] else ""
        text = f"{t['host']} does not resolve: {dns['error']}{fine}"
        return ("info" if fine else "warn"), "dns", text
    if dns["ip"]:
        return "info", "dns", f"{dns['addresses'][0]} is an IP address"
    chain = " -> ".join([*dns["aliases"], dns["canonical"]])
    status = "fail" if dns.get("rds_alias") else "ok"
    return status, "dns", f"{chain} -> {', '.join(dns['addresses'])}"


def _clock(clock: dict[str, Any]) -> Line:
    if clock["skew_s"] is None:
        return "skip", "clock", "not checked (no answer from STS or the database)"
    skew = round(clock["skew_s"], 1) + 0.0  # no "-0.0"
    status = "fail" if abs(skew) > SKEW_LIMIT_S else "ok"
    return status, "clock", f"{skew:+.1f} s from {clock['against']}"


def _tls(tls: dict[str, Any]) -> Line:
    if not tls["ok"]:
        return "fail", "tls", f"{tls['reason']} (bundle {tls['ca_path']})"
    text = (
        f"{tls['version']}, certificate for {', '.join(tls['names'])} issued by "
        f"{tls['issuer']}, verified with {tls['ca_path']}"
    )
    return "ok", "tls", text


def _login(login: dict[str, Any], t: dict[str, Any]) -> Line:
    if login["status"] == "ok":
        return "ok", "login", f"logged in as {t['user']!r} with {login['driver']}"
    if login["status"] == "skipped":
        return "skip", "login", f"not tried: {login['reason']}"
    return "fail", "login", f"{login['status']} ({login['driver']}): {login['message']}"


def render(facts: dict[str, Any], marks: Marks) -> str:
    """The checklist, then the causes (or a note that the login works)."""
    t = facts["target"]
    lines = [
        _target(t),
        _credentials(facts["credentials"]),
        _identity(facts["identity"]),
        _dns(facts["dns"], t),
        _clock(facts["clock"]),
        _tls(facts["tls"]),
        _login(facts["login"], t),
    ]
    width = max(len(name) for _, name, _ in lines)
    out = [f"rds-iam-auth doctor: {t['user']}@{t['host']}:{t['port']} ({t['engine']})"]
    out += [f"{marks.mark(status)} {name:<{width}}  {text}" for status, name, text in lines]
    if facts["ok"]:
        out.append(
            "The login works. If your application's does not: does it use verified TLS, the "
            "cleartext plugin (MySQL) and a token younger than 15 minutes?"
        )
    elif facts["causes"]:
        out += ["", "Likely causes, most likely first:"]
        for number, cause in enumerate(facts["causes"], 1):
            title = marks.paint("fail" if cause["weight"] == 3 else "warn", cause["title"])
            out.append(f"  {number}. {title}")
            out.append(f"     why:   {cause['evidence']}")
            out.append(f"     check: {cause['check']}")
    return "\n".join(out) + "\n"
