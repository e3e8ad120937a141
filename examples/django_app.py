"""Django on Amazon RDS with IAM authentication: the backend, in a one-file project.

In a real project the ``DATABASES`` entry goes in ``settings.py``; ``settings.configure()``
stands in for it here, so that the script runs on its own:

    RDS_HOST=... RDS_USER=jane_doe RDS_DB=app python examples/django_app.py
    RDS_ENGINE=mysql RDS_HOST=... RDS_USER=jane_doe RDS_DB=app python examples/django_app.py

Every connection Django opens logs in with a current token (one signing per 15 minutes, shared
by all threads); ``RDS_POOL=1`` turns on Django's PostgreSQL connection pool (psycopg 3).
"""

from __future__ import annotations

import os

import django
from django.conf import settings

ENGINE = os.environ.get("RDS_ENGINE", "postgresql")  # or "mysql"
OPTIONS = {
    "region": os.environ.get("RDS_REGION"),  # None: the region in the RDS host name
    "ca": os.environ.get("RDS_CA"),  # None: the RDS CA bundle shipped with rds_iam_auth
}
if os.environ.get("RDS_POOL") == "1":
    OPTIONS["pool"] = {"min_size": 1, "max_size": 4}

settings.configure(
    DATABASES={
        "default": {
            "ENGINE": f"rds_iam_auth.integrations.django.{ENGINE}",
            "HOST": os.environ.get(
                "RDS_HOST", "postgresmycluster.cluster-123456789012.us-east-1.rds.amazonaws.com"
            ),
            "PORT": os.environ.get("RDS_PORT", ""),
            "USER": os.environ.get("RDS_USER", "jane_doe"),
            "NAME": os.environ.get("RDS_DB", "app"),
            "OPTIONS": OPTIONS,
        }
    },
    USE_TZ=True,
)
django.setup()

from django.db import connection  # noqa: E402 - after django.setup()


def main() -> None:
    sql = "SELECT current_user" if connection.vendor == "postgresql" else "SELECT CURRENT_USER()"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        print(cursor.fetchone()[0])
    connection.close()
    print(connection.rds_iam.connector.stats)  # the Connector behind this DATABASES entry


if __name__ == "__main__":
    main()
