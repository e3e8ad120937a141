"""Read-only, name-pinning ``SSLContext``s for drivers that take a context (PyMySQL, later the
async drivers).

Loading the 108-root RDS bundle into a context costs ~20-40 ms, so contexts are built once per
(CA file, mode, server name) and shared. Sharing is safe only because they cannot be changed:
a context handed to a driver is reachable from user code (``connect_kwargs()["ssl"]``,
PyMySQL's ``conn.ctx``), and a caller that turned verification off on a shared context would
weaken every later login of every Connector. So after construction every attribute write and
every ``load_*`` / ``set_*`` call raises.

``wrap_socket`` / ``wrap_bio`` ignore the ``server_hostname`` the driver passes and use the
one the context was built for: that is how ``address=`` dials one host while TLS verifies
another (PyMySQL passes the host it dialled). Contexts are built with
``SSLContext(PROTOCOL_TLS_CLIENT)`` rather than ``ssl.create_default_context()``, which would
honour ``SSLKEYLOGFILE`` and write the session keys of the connection carrying the token.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from typing import Any

from .errors import CaBundleError, ConfigurationError

__all__ = ["PinnedContext", "pinned_context"]

_READ_ONLY = (
    "rds_iam_auth: this SSLContext is shared by every connection to the same endpoint and is "
    "read-only; choose the CA with Connector(ca=...) and the mode with tls="
)


class PinnedContext(ssl.SSLContext):
    """A verifying, read-only client context that always verifies ``server_name``.

    Args:
        ca_path: CA bundle to trust (and only it: no system roots).
        check_hostname: Verify the certificate's name (``tls="verify-full"``).
        server_name: The name sent as SNI and checked against the certificate.
        client_cert: ``(certfile, keyfile, password)`` to present, or None.
    """

    server_name: str

    def __new__(cls, *args: Any, **kwargs: Any) -> PinnedContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(
        self,
        ca_path: str,
        check_hostname: bool,
        server_name: str,
        client_cert: tuple[str, str | None, str | None] | None = None,
    ) -> None:
        base = ssl.SSLContext
        try:
            base.load_verify_locations(self, cafile=ca_path)
        except (OSError, ssl.SSLError) as exc:
            raise CaBundleError(f"cannot load CA bundle {ca_path!r}: {exc}") from None
        if client_cert is not None:
            certfile, keyfile, password = client_cert
            failure = ""
            try:
                base.load_cert_chain(self, certfile, keyfile, password)
            except (OSError, ssl.SSLError) as exc:
                # Named files only: the key password must not reach a message or __context__.
                failure = (
                    exc.strerror
                    if isinstance(exc, OSError) and exc.strerror
                    else type(exc).__name__
                )
            if failure:
                raise ConfigurationError(
                    f"cannot load the client certificate ssl_cert={certfile!r} "
                    f"(ssl_key={keyfile!r}): {failure}"
                )
        self.minimum_version = ssl.TLSVersion.TLSv1_2
        self.check_hostname = check_hostname
        self.verify_mode = ssl.CERT_REQUIRED
        if hasattr(self, "keylog_filename"):
            self.keylog_filename = None  # type: ignore[assignment]
        self.server_name = server_name
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, "_frozen", False):
            raise AttributeError(f"{_READ_ONLY} (tried to set {name})")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(_READ_ONLY)

    def __reduce__(self) -> Any:
        raise TypeError("PinnedContext cannot be pickled")

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:
        """Wrap ``sock``, verifying the pinned server name whatever the caller passes."""
        kwargs["server_hostname"] = self.server_name
        return super().wrap_socket(sock, *args[:3], **kwargs)

    def wrap_bio(self, incoming: Any, outgoing: Any, *args: Any, **kwargs: Any) -> Any:
        """Wrap a BIO pair (asyncio transports), verifying the pinned server name."""
        kwargs["server_hostname"] = self.server_name
        return super().wrap_bio(incoming, outgoing, *args[:1], **kwargs)


def _read_only(self: PinnedContext, *args: Any, **kwargs: Any) -> Any:
    raise AttributeError(_READ_ONLY)


for _name in dir(ssl.SSLContext):
    if _name.startswith(("load_", "set_")) and callable(getattr(ssl.SSLContext, _name)):
        setattr(PinnedContext, _name, _read_only)


def _mtime_ns(path: str, what: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError as exc:
        if what == "CA bundle":
            raise CaBundleError(f"cannot read CA bundle {path!r}: {exc.strerror}") from None
        raise ConfigurationError(f"cannot read {what} {path!r}: {exc.strerror}") from None


# (CA, its mtime, check_hostname, server name, client-cert stamp) -> context. Two threads may
# both build a missing one; either result is correct, and the dict keeps one.
_contexts: dict[tuple[Any, ...], PinnedContext] = {}
_MAX_CONTEXTS = 128


def pinned_context(
    ca_path: str,
    check_hostname: bool,
    server_name: str,
    client_cert: tuple[str, str | None, str | None] | None = None,
) -> PinnedContext:
    """The shared read-only context for these settings, rebuilt when a file changes.

    Raises:
        CaBundleError: The CA bundle cannot be read or loaded.
        ConfigurationError: The client certificate or key cannot be loaded.
    """
    stamp: tuple[Any, ...] | None = None
    if client_cert is not None:
        certfile, keyfile, password = client_cert
        # The key password joins the cache key only as a digest.
        digest = hashlib.sha256((password or "").encode()).hexdigest()
        key_mtime = _mtime_ns(keyfile, "ssl_key") if keyfile else 0
        stamp = (certfile, _mtime_ns(certfile, "ssl_cert"), keyfile, key_mtime, digest)
    key = (ca_path, _mtime_ns(ca_path, "CA bundle"), check_hostname, server_name, stamp)
    context = _contexts.get(key)
    if context is None:
        context = PinnedContext(ca_path, check_hostname, server_name, client_cert)
        if len(_contexts) >= _MAX_CONTEXTS:
            _contexts.clear()  # many endpoints or rotating files: start over rather than grow
        _contexts[key] = context
    return context
