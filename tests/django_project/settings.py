"""Settings for the test project: one database, described by ``RIA_DJANGO_*`` variables.

- ``RIA_DJANGO_ENGINE``: ``postgresql`` or ``mysql`` (our backends).
- ``RIA_DJANGO_HOST`` / ``_PORT`` / ``_USER`` / ``_NAME``: the server.
- ``RIA_DJANGO_CONNECTOR``: an import path for ``OPTIONS["connector"]``; without it,
  ``RIA_DJANGO_REGION`` and ``RIA_DJANGO_CA`` become ``OPTIONS["region"]`` / ``["ca"]``.
- ``RIA_DJANGO_ADDRESS``: ``OPTIONS["address"]`` (dial there, sign for and verify HOST).
- ``RIA_DJANGO_POOL=1``: ``OPTIONS["pool"]`` (PostgreSQL, psycopg 3) with one connection.
- ``RIA_DJANGO_SCHEMA``: PostgreSQL schema for this run (``search_path``), so runs sharing
  one database each migrate from scratch.
"""

from __future__ import annotations

import os
from typing import Any

_env = os.environ

SECRET_KEY = "rds-iam-auth-tests-only"  # a throwaway test project
INSTALLED_APPS = ["tests.django_project.iamapp"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_options: dict[str, Any] = {}
if _env.get("RIA_DJANGO_CONNECTOR"):
    _options["connector"] = _env["RIA_DJANGO_CONNECTOR"]
else:
    _options.update(region=_env["RIA_DJANGO_REGION"], ca=_env["RIA_DJANGO_CA"])
if _env.get("RIA_DJANGO_ADDRESS"):
    _options["address"] = _env["RIA_DJANGO_ADDRESS"]
if _env.get("RIA_DJANGO_POOL") == "1":
    # One connection, no growth: each new pool logs in exactly once (a pool asked for a
    # connection before its first one is ready grows by one if it may).
    _options["pool"] = {"min_size": 1, "max_size": 1, "timeout": 30}
if _env.get("RIA_DJANGO_SCHEMA"):
    _options["options"] = f"-c search_path={_env['RIA_DJANGO_SCHEMA']}"

DATABASES = {
    "default": {
        "ENGINE": f"rds_iam_auth.integrations.django.{_env['RIA_DJANGO_ENGINE']}",
        "HOST": _env["RIA_DJANGO_HOST"],
        "PORT": _env["RIA_DJANGO_PORT"],
        "USER": _env["RIA_DJANGO_USER"],
        "NAME": _env["RIA_DJANGO_NAME"],
        "OPTIONS": _options,
    }
}
