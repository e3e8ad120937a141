"""The process-wide default Connector behind ``rds_iam_auth.connect()``."""

from __future__ import annotations

import sys
import threading
from typing import Any

from . import _fork
from .connector import Connector

__all__ = ["connect"]

_default_lock = threading.Lock()
_default_connector: Connector | None = None


def _reset_default_lock(module: object) -> None:
    global _default_lock  # noqa: PLW0603 - a child forked mid-construction inherits it held
    _default_lock = threading.Lock()


def _get_default() -> Connector:
    global _default_connector  # noqa: PLW0603 - one lazily built process-wide default
    if _default_connector is None:
        with _default_lock:
            if _default_connector is None:
                _default_connector = Connector()
    return _default_connector


def connect(
    host: str,
    user: str,
    *,
    driver: str,
    port: int | None = None,
    region: str | None = None,
    address: str | None = None,
    **driver_kwargs: Any,
) -> Any:
    """Open a connection through a process-wide default :class:`Connector`.

    The default Connector uses the default credential chain and CA resolution; build your own
    Connector to choose a profile, session, CA or clock.
    """
    return _get_default().connect(
        host, user, driver=driver, port=port, region=region, address=address, **driver_kwargs
    )


_fork.register(sys.modules[__name__], _reset_default_lock)
