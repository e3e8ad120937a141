"""Pools and frameworks that open connections long after they were configured.

A pool or engine built once must not keep the token it was built with: IAM tokens are
accepted at login for 15 minutes only. Each integration asks the
:class:`~rds_iam_auth.Connector` for a current token whenever a new connection logs in, and
goes through its keyword policy, TLS settings and (where the integration opens the connection)
its retry of a refused token.

- :mod:`rds_iam_auth.integrations.sqlalchemy` (``pip install 'rds-iam-auth[sqlalchemy]'``):
  ``install(engine)`` for engines built in code, sync and async, and the URL plugin
  ``?plugin=rds_iam`` (entry point ``sqlalchemy.plugins``) for tools configured only by a URL
  (Alembic, Airflow, MLflow, Superset).
- :mod:`rds_iam_auth.integrations.psycopg_pool` (``[psycopg-pool]``, psycopg_pool 3.3+): the
  ``kwargs`` callables for ``ConnectionPool`` and, awaitable, for ``AsyncConnectionPool``.
- :mod:`rds_iam_auth.integrations.django` (``[django]``): database backends
  ``rds_iam_auth.integrations.django.postgresql`` and ``.mysql``, pooled or not, and
  ``manage.py dbshell``.

Nothing here is imported by ``import rds_iam_auth``; each module imports its framework.
"""
