"""Item 10: what a pooled PyMySQL connect pays for its TLS context.

The connector hands PyMySQL a shared, read-only context (building one for the 108-root RDS
bundle costs tens of milliseconds). The recipe passes ``ssl_ca=<bundle>`` and PyMySQL builds a
new ``create_default_context(cafile=...)`` for every connection; a per-connection copy of ours
would cost the same. Measured in one run, alternating, on the RDS bundle the wheel ships.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from .common import HOST, REGION, USER, Row, ratio_row
from .warm import _per_call_us


def run(rounds: int) -> list[Row]:
    """Per pooled connect: our kwargs (context included) vs a fresh context from the bundle."""
    from rds_iam_auth import Connector
    from rds_iam_auth._bundle import shipped_bundle
    from rds_iam_auth.testing import StaticSigner

    bundle = shipped_bundle()
    connector = Connector(signer=StaticSigner("t"), region=REGION, ca=bundle)
    connector.connect_kwargs(HOST, USER, driver="pymysql")

    def ours() -> None:
        connector.connect_kwargs(HOST, USER, driver="pymysql")

    def recipe() -> None:
        ssl.create_default_context(cafile=bundle)

    ours_us, recipe_us = [], []
    for _ in range(rounds):
        ours_us.append(_per_call_us(ours, 2000))
        recipe_us.append(_per_call_us(recipe, 10))
    row = ratio_row(
        "10",
        "PyMySQL pooled connect: TLS context cost (kwargs incl. context vs fresh context)",
        ours_us,
        recipe_us,
        "us",
        0.01,
        note=f"bundle {Path(bundle).name}; ours is shared and read-only, so no copy is needed",
    )
    return [row]
