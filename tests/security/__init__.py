"""Decoy-server security tests: no keyword, environment variable, libpq service file, option
file or mutated object may get an IAM token to a server whose TLS the client has not verified.

``decoys.py`` (with ``_pg_decoy.py``, ``_mysql_decoy.py``, ``_wire.py``) serves impostor
PostgreSQL and MySQL servers on 127.0.0.1 that record every password; ``test_decoys_real.py``
proves they take the token from any client that does not verify, so each "nothing arrived"
assertion elsewhere is meaningful. Run: ``pytest -n 2 tests/security``.
"""
