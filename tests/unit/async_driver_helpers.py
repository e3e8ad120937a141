"""What the unit tests of the asyncio adapters share."""

from __future__ import annotations

from typing import Any

from rds_iam_auth import Connector
from rds_iam_auth.testing import StaticSigner

__all__ = ["connector"]


def connector(ca_file: str, tokens: Any = "tok") -> Connector:
    """A Connector trusting ``ca_file`` whose tokens come from a ``StaticSigner``."""
    return Connector(signer=StaticSigner(tokens), ca=ca_file, region="us-east-1")
