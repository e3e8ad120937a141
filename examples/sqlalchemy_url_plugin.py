"""A SQLAlchemy engine configured by its URL alone, as Alembic, Airflow, MLflow or Superset do.

``?plugin=rds_iam`` loads rds_iam_auth's engine plugin (entry point ``sqlalchemy.plugins``),
which takes its options from ``rds_iam_*`` query parameters and removes them before the driver
sees the URL. Credentials come from the usual AWS chain (environment, profile, instance role).

    RDS_HOST=mydb.abc123.us-east-1.rds.amazonaws.com RDS_USER=jane_doe RDS_DB=app \
        python examples/sqlalchemy_url_plugin.py
"""

from __future__ import annotations

import os

import sqlalchemy as sa

HOST = os.environ.get("RDS_HOST", "mydb.abc123.us-east-1.rds.amazonaws.com")
PORT = int(os.environ.get("RDS_PORT", "5432"))
USER = os.environ.get("RDS_USER", "jane_doe")
DBNAME = os.environ.get("RDS_DB", "postgres")
REGION = os.environ.get("RDS_REGION")
CA = os.environ.get("RDS_CA")


def main() -> None:
    query = {"plugin": "rds_iam"}
    if REGION:
        query["rds_iam_region"] = REGION  # only for hosts without one (IP, CNAME)
    if CA:
        query["rds_iam_ca"] = CA  # default: the RDS bundle shipped in the package
    url = sa.URL.create(
        "postgresql+psycopg", username=USER, host=HOST, port=PORT, database=DBNAME, query=query
    )
    # What goes into alembic.ini (sqlalchemy.url = ...) or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:
    print("url     ", url.render_as_string(hide_password=False))
    engine = sa.create_engine(url, pool_pre_ping=True)
    print("driver  ", engine.url.render_as_string())  # our options are gone
    with engine.connect() as conn:
        print("user    ", conn.execute(sa.text("SELECT current_user")).scalar_one())
    engine.dispose()


if __name__ == "__main__":
    main()
