"""``python -m tests.django_project.manage <command>``: Django's manage.py for the test project.

``RIA_DJANGO_PG_DRIVER=psycopg2`` hides psycopg 3 from this process: Django's PostgreSQL
backend takes psycopg 3 whenever it can be imported, and both are installed here.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if os.environ.get("RIA_DJANGO_PG_DRIVER") == "psycopg2":
        sys.modules["psycopg"] = None  # import psycopg -> ImportError
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
