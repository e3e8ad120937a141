"""The URL plugin behind ``?plugin=rds_iam`` (entry point ``sqlalchemy.plugins``), re-exported
by :mod:`rds_iam_auth.integrations.sqlalchemy`: our ``rds_iam_*`` options parsed, checked by
name and removed from the URL before the driver sees them."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import CreateEnginePlugin

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from ..connector import Connector

__all__ = ["LOGIN_IN_URL", "URL_OPTIONS", "RdsIamPlugin", "url_options"]

LOGIN_IN_URL = (
    "remove the password from the database URL and connect_args: with IAM authentication the "
    "password is a token that rds_iam_auth signs for each new connection"
)
# rds_iam_* URL query option -> install() keyword.
URL_OPTIONS: Mapping[str, str] = {
    "rds_iam_region": "region",
    "rds_iam_address": "address",
    "rds_iam_ca": "ca",
    "rds_iam_tls": "tls",
    "rds_iam_profile": "profile",
}


class RdsIamPlugin(CreateEnginePlugin):
    """``?plugin=rds_iam``: ``install()`` for engines configured only by a URL.

    Options are URL query parameters, removed before the driver sees them:
    ``rds_iam_region``, ``rds_iam_address``, ``rds_iam_ca``, ``rds_iam_tls`` and
    ``rds_iam_profile`` (the keywords of :func:`install`). Any other ``rds_iam_*`` name is
    refused, with the closest known one. Code that builds the engine itself can pass its own
    Connector as ``create_engine(url, rds_iam_connector=connector)``.
    """

    def __init__(self, url: URL, kwargs: dict[str, Any]) -> None:
        super().__init__(url, kwargs)
        if url.password is not None:
            raise ConfigurationError(LOGIN_IN_URL)
        self._options = url_options(url.query)
        self._given = kwargs.pop("rds_iam_connector", None)
        self.connector: Connector | None = None

    def update_url(self, url: URL) -> URL:
        """The URL without our ``rds_iam_*`` options (the driver would refuse them)."""
        return url.difference_update_query([key for key in url.query if _is_ours(key)])

    def engine_created(self, engine: Engine) -> None:
        """Install the listener on the new engine (sync, or an async engine's sync_engine)."""
        from .sqlalchemy import install  # here: that module imports this one

        self.connector = install(engine, self._given, **self._options)


def _is_ours(key: str) -> bool:
    return key.lower().replace("-", "_").startswith("rds_iam")


def url_options(query: Mapping[str, str | tuple[str, ...]]) -> dict[str, str]:
    """The ``install()`` keywords named by a URL's ``rds_iam_*`` query parameters.

    Raises:
        ConfigurationError: An unknown ``rds_iam_*`` name (with the closest known one) or an
            option given more than once.
    """
    options: dict[str, str] = {}
    for key, value in query.items():
        if not _is_ours(key):
            continue
        if key not in URL_OPTIONS:
            close = difflib.get_close_matches(key.lower().replace("-", "_"), URL_OPTIONS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigurationError(
                f"unknown URL option {key!r}{hint}; rds_iam_auth's options are "
                f"{', '.join(URL_OPTIONS)}"
            )
        if not isinstance(value, str):
            raise ConfigurationError(f"the URL option {key} is given {len(value)} times; once")
        options[URL_OPTIONS[key]] = value
    return options
