"""The SQLAlchemy URL plugin from the installed wheel, run by ``nox -s build`` in a fresh
virtualenv holding ``rds_iam_auth-*.whl[sqlalchemy,pymysql]`` (``python -I plugin_smoke.py``,
outside the checkout). Stdlib, SQLAlchemy and the package only; no network: sockets are
disabled before anything connects.

Checks: the wheel's metadata declares the ``sqlalchemy.plugins`` entry point ``rds_iam`` and it
loads ``RdsIamPlugin`` from site-packages; ``?plugin=rds_iam`` removes our ``rds_iam_*``
options from the URL (the driver's stay) and installs the ``do_connect`` listener; an unknown
``rds_iam_*`` option is refused by name, a password in the URL is refused; a connection attempt
signs for the URL's host, port, user and ``rds_iam_region`` before the driver dials.
"""

from __future__ import annotations

import importlib.metadata
import socket
import sys
from typing import Any

HOST = "mydb.abc123.eu-west-1.rds.amazonaws.com"
BASE = f"mysql+pymysql://jane@{HOST}/app?plugin=rds_iam"


def check(condition: bool, message: str) -> None:
    if not condition:
        print(f"plugin smoke FAILED: {message}")
        sys.exit(1)


def no_network() -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(101, "plugin smoke: the network is disabled")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def refused(url: str, *words: str) -> None:
    import sqlalchemy as sa

    from rds_iam_auth import ConfigurationError

    try:
        sa.create_engine(url)
    except ConfigurationError as exc:
        for word in words:
            check(word in str(exc), f"{word!r} not in {exc}")
        check("hunter2" not in str(exc), "the URL's password is in the message")
    else:
        check(False, f"{url} was accepted")


def main() -> None:
    check(sys.prefix != sys.base_prefix, "not running in a virtualenv")
    found = importlib.metadata.entry_points(group="sqlalchemy.plugins", name="rds_iam")
    check(len(found) == 1, f"entry points rds_iam: {list(found)}")
    (entry,) = found
    check(
        entry.value == "rds_iam_auth.integrations.sqlalchemy:RdsIamPlugin",
        f"the entry point names {entry.value}",
    )
    check(entry.dist is not None and entry.dist.name == "rds-iam-auth", "not the wheel's")
    plugin = entry.load()
    where = sys.modules[plugin.__module__].__file__ or ""
    check("site-packages" in where, f"the plugin came from {where}, not the installed wheel")

    no_network()
    import sqlalchemy as sa

    from rds_iam_auth import Connector
    from rds_iam_auth.testing import StaticSigner

    engine = sa.create_engine(f"{BASE}&rds_iam_ca=certifi&rds_iam_tls=verify-full&charset=utf8mb4")
    check(dict(engine.url.query) == {"charset": "utf8mb4"}, f"left in the URL: {engine.url}")
    listeners = list(engine.dialect.dispatch.do_connect)
    check(
        [fn.__module__ for fn in listeners] == ["rds_iam_auth.integrations.sqlalchemy"],
        f"do_connect listeners: {listeners}",
    )
    refused(f"{BASE}&rds_iam_regoin=eu-west-1", "'rds_iam_regoin'", "did you mean rds_iam_region")
    refused(BASE.replace("jane@", "jane:hunter2@"), "remove the password")

    signer = StaticSigner("tok")
    connector = Connector(signer=signer, ca="certifi")
    engine = sa.create_engine(f"{BASE}&rds_iam_region=eu-west-1", rds_iam_connector=connector)
    try:
        engine.connect()
    except sa.exc.OperationalError as exc:  # PyMySQL could not dial: the network is off
        check("2003" in str(exc), f"not a refused dial: {exc}")
    else:
        check(False, "connected with the network disabled")
    check(len(signer.calls) == 1, f"signings: {len(signer.calls)}")
    endpoint, user, _ = signer.calls[0]
    signed = (endpoint.host, endpoint.port, endpoint.region, user)
    check(signed == (HOST, 3306, "eu-west-1", "jane"), f"signed for {signed}")
    print(
        f"plugin smoke passed: entry point {entry.name} -> {entry.value} from {where}; "
        "options removed, unknown ones and passwords refused, a connect signs for the URL"
    )


if __name__ == "__main__":
    main()
