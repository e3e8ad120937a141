"""The read-only, name-pinning SSLContexts handed to PyMySQL (and later the async drivers).

Handshakes run over memory BIOs between our client context and a trustme server: no sockets.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import certifi
import pytest
import trustme

from rds_iam_auth import CaBundleError, Connector
from rds_iam_auth.testing import StaticSigner
from rds_iam_auth.tls import TlsSettings, context_for

NAME = "db.example.test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_for(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(server)
    return server


def handshake(client: ssl.SSLContext, server: ssl.SSLContext, server_hostname: str) -> None:
    """A TLS handshake over memory BIOs, the client passing ``server_hostname``."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client_obj = client.wrap_bio(c_in, c_out, server_hostname=server_hostname)
    server_obj = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(20):
        for name, obj, out, peer_in in (
            ("c", client_obj, c_out, s_in),
            ("s", server_obj, s_out, c_in),
        ):
            if not done[name]:
                try:
                    obj.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
            data = out.read()
            if data:
                peer_in.write(data)
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish")


def test_shared_per_ca_mode_and_name(ca_file: str) -> None:
    full = TlsSettings("verify-full", ca_file)
    first = context_for(full, NAME)
    assert context_for(TlsSettings("verify-full", ca_file), NAME) is first
    assert context_for(TlsSettings("verify-ca", ca_file), NAME) is not first
    assert context_for(full, "other.example.test") is not first
    assert context_for(TlsSettings("verify-full", certifi.where()), NAME) is not first


@pytest.mark.parametrize(("mode", "check"), [("verify-full", True), ("verify-ca", False)])
def test_verifies(ca_file: str, mode: str, check: bool) -> None:
    context = context_for(TlsSettings(mode, ca_file), NAME)  # type: ignore[arg-type]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is check
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert len(context.get_ca_certs()) == 1  # only the given CA: no system roots


def test_rebuilt_when_the_ca_file_changes(ca_file: str) -> None:
    first = context_for(TlsSettings("verify-full", ca_file), NAME)
    st = os.stat(ca_file)
    os.utime(ca_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert context_for(TlsSettings("verify-full", ca_file), NAME) is not first


def test_unloadable_ca(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not a certificate\n")
    with pytest.raises(CaBundleError, match="cannot load CA bundle"):
        context_for(TlsSettings("verify-full", str(garbage)), NAME)
    with pytest.raises(CaBundleError, match="cannot read CA bundle"):
        context_for(TlsSettings("verify-full", str(tmp_path / "missing.pem")), NAME)


def test_verifies_chain_and_the_pinned_name(ca: trustme.CA, ca_file: str) -> None:
    server = server_for(ca, NAME)
    full = context_for(TlsSettings("verify-full", ca_file), NAME)
    # Whatever name the driver passes (PyMySQL passes the host it dialled), ours is checked.
    handshake(full, server, "127.0.0.1")
    other = context_for(TlsSettings("verify-full", ca_file), "other.example.test")
    with pytest.raises(ssl.SSLCertVerificationError, match=r"mismatch|match"):
        handshake(other, server, NAME)
    # verify-ca skips the name but still checks the chain.
    handshake(context_for(TlsSettings("verify-ca", ca_file), "other.example.test"), server, NAME)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(full, server_for(trustme.CA(), NAME), NAME)


ATTACKS = [
    ("check_hostname", lambda c: setattr(c, "check_hostname", False)),
    ("verify_mode", lambda c: setattr(c, "verify_mode", ssl.CERT_NONE)),
    ("verify_flags", lambda c: setattr(c, "verify_flags", ssl.VERIFY_DEFAULT)),
    ("minimum_version", lambda c: setattr(c, "minimum_version", ssl.TLSVersion.TLSv1)),
    ("keylog_filename", lambda c: setattr(c, "keylog_filename", "/tmp/keys")),
    ("server_name", lambda c: setattr(c, "server_name", "evil.example")),
    ("load_verify_locations", lambda c: c.load_verify_locations(certifi.where())),
    ("load_default_certs", lambda c: c.load_default_certs()),
    ("set_ciphers", lambda c: c.set_ciphers("ALL:@SECLEVEL=0")),
    ("sni_callback", lambda c: setattr(c, "sni_callback", None)),
    ("delete", lambda c: delattr(c, "server_name")),
]


@pytest.mark.regression
@pytest.mark.parametrize(("what", "attack"), ATTACKS, ids=[a[0] for a in ATTACKS])
def test_handed_out_contexts_are_read_only(ca: trustme.CA, ca_file: str, what: str, attack) -> None:  # type: ignore[no-untyped-def]
    # Regression (finding 3): connect_kwargs()["ssl"] was the cached context every Connector
    # shares; a caller that changed it weakened later logins of other Connectors.
    first = Connector(signer=StaticSigner("t"), ca=ca_file, region="us-east-1")
    kwargs = first.connect_kwargs(NAME, "app", driver="pymysql")
    with pytest.raises(AttributeError, match="read-only"):
        attack(kwargs["ssl"])
    other = Connector(signer=StaticSigner("t"), ca=ca_file, region="us-east-1")
    context = other.connect_kwargs(NAME, "app", driver="pymysql")["ssl"]
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(context, server_for(ca, "other.example.test"), NAME)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(context, server_for(trustme.CA(), NAME), NAME)


@pytest.mark.regression
def test_sslkeylogfile_is_not_honoured(
    ca: trustme.CA, ca_file: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression (finding 5): ssl.create_default_context() reads SSLKEYLOGFILE and writes the
    # session keys of the connection that carries the token.
    server = server_for(ca, "keylog.example.test")  # before: the server's context would log
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    context = context_for(TlsSettings("verify-full", str(ca_file)), "keylog.example.test")
    assert context.keylog_filename is None
    handshake(context, server, "keylog.example.test")
    assert not keylog.exists()


def test_client_certificate_context(ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    client = trustme.CA().issue_cert("client.example.test")
    cert = tmp_path / "client.pem"
    client.private_key_and_cert_chain_pem.write_to_path(str(cert))
    c = Connector(signer=StaticSigner("t"), ca=ca_file, region="us-east-1")
    kwargs = c.connect_kwargs(NAME, "app", driver="pymysql", ssl_cert=str(cert))
    context = kwargs["ssl"]
    assert context is not context_for(TlsSettings("verify-full", ca_file), NAME)
    assert context.check_hostname is True
    assert context.verify_mode == ssl.CERT_REQUIRED
    with pytest.raises(AttributeError, match="read-only"):
        context.verify_mode = ssl.CERT_NONE
    again = c.connect_kwargs(NAME, "app", driver="pymysql", ssl_cert=str(cert))["ssl"]
    assert again is context  # loading a bundle costs tens of ms: shared, being read-only
