"""A failed certificate verification names the server certificate's issuer and the way to an
updated bundle; the probe that reads the issuer sends nothing (loopback servers only)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import psycopg
import pymysql
import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from rds_iam_auth import Connector
from rds_iam_auth._tlsprobe import issuer_name, peer_issuer
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import shipped_bundle
from tests.unit.tls_servers import tls_server

RDS_HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"
DRIVERS = {"pg": ("psycopg", psycopg.OperationalError), "mysql": ("pymysql", pymysql.Error)}


@pytest.fixture(scope="module")
def server_ca() -> trustme.CA:
    return trustme.CA()


def ca_file(tmp_path: Path, ca: trustme.CA, name: str) -> str:
    path = tmp_path / f"{name}.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def ou(ca: trustme.CA) -> str:
    cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    (attribute,) = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(attribute.value)


def notes_of(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


# --- the probe ------------------------------------------------------------------------------------


def test_issuer_name_reads_the_issuer_of_a_der_certificate(server_ca: trustme.CA) -> None:
    pem = server_ca.issue_cert("db.test").cert_chain_pems[0].bytes()
    leaf = x509.load_pem_x509_certificate(pem)
    (org,) = leaf.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert issuer_name(leaf.public_bytes(Encoding.DER)) == f"OU={ou(server_ca)}, O={org.value}"
    assert issuer_name(b"\x30\x03\x02\x01") is None  # truncated: unknown, not an exception
    assert issuer_name(b"") is None


def test_issuer_name_of_an_rds_root() -> None:
    first = Path(shipped_bundle()).read_text().split("-----END CERTIFICATE-----")[0]
    der = x509.load_pem_x509_certificate(
        (first + "-----END CERTIFICATE-----\n").encode()
    ).public_bytes(Encoding.DER)
    name = issuer_name(der)
    assert name is not None
    assert name.startswith("CN=Amazon RDS ")
    assert "O=Amazon Web Services, Inc." in name


@pytest.mark.parametrize("protocol", ["pg", "mysql"])
def test_probe_reads_the_issuer_and_sends_nothing(server_ca: trustme.CA, protocol: str) -> None:
    engine = "postgresql" if protocol == "pg" else "mysql"
    with tls_server(protocol, server_ca) as server:
        issuer = peer_issuer("127.0.0.1", server.port, RDS_HOST, engine)
    assert issuer is not None
    assert ou(server_ca) in issuer
    assert server.handshakes == 1
    assert server.after_handshake == [b""]  # no user, no password, no token


@pytest.mark.parametrize("protocol", ["pg", "mysql"])
def test_probe_gives_up_quietly(server_ca: trustme.CA, protocol: str) -> None:
    engine = "postgresql" if protocol == "pg" else "mysql"
    with tls_server(protocol, server_ca, offer_tls=False) as server:
        assert peer_issuer("127.0.0.1", server.port, RDS_HOST, engine) is None
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert peer_issuer("127.0.0.1", port, RDS_HOST, engine, timeout_s=1) is None


# --- notes on the driver's exception -------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["pg", "mysql"])
def test_unknown_ca_note_names_issuer_bundle_and_update(
    server_ca: trustme.CA, tmp_path: Path, protocol: str
) -> None:
    driver, error = DRIVERS[protocol]
    wrong = ca_file(tmp_path, trustme.CA(), "wrong")
    with (
        tls_server(protocol, server_ca) as server,
        Connector(signer=StaticSigner("tok"), region="us-east-1", ca=wrong) as c,
        pytest.raises(error) as info,
    ):
        c.connect("127.0.0.1", "app", driver=driver, port=server.port)
    notes = notes_of(info.value)
    assert "TLS verification of 127.0.0.1 failed" in notes
    assert f"issued by OU={ou(server_ca)}" in notes
    assert f"checked against {wrong} (the bundle chosen with ca=" in notes
    reason = "unable to get local issuer certificate" if protocol == "mysql" else "certificate"
    assert f"failed ({reason}" in notes  # PyMySQL keeps OpenSSL's reason, libpq does not
    assert "not an Amazon RDS CA" in notes
    assert "tok" not in notes
    assert server.after_handshake == [b""]  # the probe's session: nothing sent in it


def test_shipped_bundle_note_through_a_tunnel(server_ca: trustme.CA) -> None:
    # The default CA for an RDS host is the shipped bundle; a server it cannot verify (here a
    # test CA behind address=) gets the note naming the shipped copy and how to update it.
    with (
        tls_server("pg", server_ca, RDS_HOST) as server,
        Connector(signer=StaticSigner("tok")) as c,
        pytest.raises(psycopg.OperationalError) as info,
    ):
        c.connect(RDS_HOST, "app", driver="psycopg", address=f"127.0.0.1:{server.port}")
    notes = notes_of(info.value)
    assert f"TLS verification of {RDS_HOST} failed" in notes
    assert "the RDS bundle shipped with rds_iam_auth 0.1.0, copied 2" in notes
    assert f"issued by OU={ou(server_ca)}" in notes
    assert "not an Amazon RDS CA" in notes


def test_an_rds_issuer_missing_from_the_bundle_gets_the_update_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rds_iam_auth import _tlsnotes

    issuer = "CN=Amazon RDS ap-moon-1 Subordinate CA RSA2048 G1.A.1, O=Amazon Web Services, Inc."
    monkeypatch.setattr("rds_iam_auth._tlsprobe.peer_issuer", lambda *a, **k: issuer)
    for host, partition, url in [
        (RDS_HOST, "aws", "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"),
        (
            "db.abc.cn-north-1.rds.amazonaws.com.cn",
            "aws-cn",
            "https://rds-truststore.s3.cn-north-1.amazonaws.com.cn/global/global-bundle.pem",
        ),
    ]:
        c = Connector(signer=StaticSigner("tok"))
        c._targets._ca_paths["aws-cn"] = "/etc/ssl/mine.pem"  # a China bundle of the user's own
        target: Any = c._targets.target(host, "app", "psycopg", (None, None, None))
        notes = "\n".join(_tlsnotes.verification_notes(target, "unable to get local issuer"))
        assert f"issued by {issuer}" in notes
        assert f"install_bundle('global-bundle.pem', partition={partition!r})" in notes
        assert url in notes
        assert "RDS_IAM_AUTH_CA_BUNDLE" in notes
        assert ("instead of the shipped bundle" in notes) == (partition == "aws")


def test_name_mismatch_note_points_to_address(server_ca: trustme.CA, tmp_path: Path) -> None:
    trusted = ca_file(tmp_path, server_ca, "trusted")
    with (
        tls_server("pg", server_ca, "other.example") as server,
        Connector(signer=StaticSigner("tok"), region="us-east-1", ca=trusted) as c,
        pytest.raises(psycopg.OperationalError) as info,
    ):
        c.connect("127.0.0.1", "app", driver="psycopg", port=server.port)
    notes = notes_of(info.value)
    assert "does not name the host you passed" in notes
    assert "address=" in notes
    assert "install_bundle" not in notes


def test_other_connection_failures_get_no_tls_note(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with (
        Connector(signer=StaticSigner("tok"), region="us-east-1", ca="certifi") as c,
        pytest.raises(psycopg.OperationalError) as info,
    ):
        c.connect("127.0.0.1", "app", driver="psycopg", port=port, connect_timeout=2)
    assert not getattr(info.value, "__notes__", None)


def test_rds_proxy_failure_points_to_certifi(monkeypatch: pytest.MonkeyPatch) -> None:
    from rds_iam_auth import _tlsnotes

    monkeypatch.setattr("rds_iam_auth._tlsprobe.peer_issuer", lambda *a, **k: None)
    c = Connector(signer=StaticSigner("tok"))
    target: Any = c._targets.target(
        "p.proxy-abc123.us-east-1.rds.amazonaws.com", "app", "psycopg", (None, None, None)
    )
    notes = "\n".join(_tlsnotes.verification_notes(target, "certificate verify failed"))
    assert "issuer that could not be read" in notes
    assert "Amazon Trust Services" in notes
    assert "certifi" in notes
