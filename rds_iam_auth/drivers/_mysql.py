"""What the MySQL drivers share: the TLS context the token travels in, owned keywords, 1045.

MySQL servers check a user's ``REQUIRE SSL`` only after the password has arrived, and the IAM
plugin asks for it in clear (``mysql_clear_password``), so the client must be inside verified
TLS before it sends anything. Each MySQL adapter hands its driver one of our read-only,
name-pinning contexts (``_sslcontext``): never a context or ``ssl_*`` dict of the caller's,
which could trust another CA (a caller's ``ssl=`` is refused like ``ssl_ca=``, one rule for
both routes). A client certificate is the one TLS setting callers bring: ``ssl_cert``,
``ssl_key`` and ``ssl_key_password`` are loaded into a verifying context of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._sslcontext import pinned_context
from ..errors import ConfigurationError
from ..tls import TlsSettings
from ._policy import CONFIG_FILE, CREDENTIALS, TARGET, TLS

__all__ = ["ACCESS_DENIED", "CLIENT_CERT_KEYWORDS", "OWNED", "context"]

ACCESS_DENIED = 1045
CLIENT_CERT_KEYWORDS = ("ssl_cert", "ssl_key", "ssl_key_password")
OWNED: Mapping[str, str] = {
    "host": TARGET,
    "port": TARGET,
    "user": TARGET,
    "unix_socket": TARGET,
    "named_pipe": TARGET,
    "password": CREDENTIALS,
    "passwd": CREDENTIALS,
    "auth_plugin_map": CREDENTIALS,
    "server_public_key": CREDENTIALS,
    "read_default_file": CONFIG_FILE,
    "read_default_group": CONFIG_FILE,
    "defer_connect": "the connector opens the connection itself, so it can retry a refused token",
    "ssl": TLS,
    "ssl_ca": TLS,
    "ssl_capath": TLS,
    "ssl_cipher": TLS,
    "ssl_verify_cert": TLS,
    "ssl_verify_identity": TLS,
    "ssl_disabled": TLS,
}


def context(tls: TlsSettings, server_name: str, client_cert: Mapping[str, Any]) -> Any:
    """The read-only verifying context for ``server_name`` (with a client certificate if
    ``client_cert`` holds ``ssl_cert`` and friends).

    Raises:
        ConfigurationError: ``ssl_key`` / ``ssl_key_password`` without ``ssl_cert``, or an
            unloadable certificate.
    """
    if not client_cert:
        return pinned_context(tls.ca_path, tls.check_hostname, server_name)
    certfile = client_cert.get("ssl_cert")
    if not certfile:
        raise ConfigurationError("ssl_key= and ssl_key_password= need ssl_cert=")
    cert = (certfile, client_cert.get("ssl_key"), client_cert.get("ssl_key_password"))
    return pinned_context(tls.ca_path, tls.check_hostname, server_name, cert)
