"""The library's logger, with the NullHandler libraries add (so an application that configures
no logging gets no output from us). Imported by the modules that log, not by the package:
``rds-iam-auth token`` then never imports ``logging``."""

from __future__ import annotations

import logging

__all__ = ["logger"]

logger = logging.getLogger("rds_iam_auth")
logger.addHandler(logging.NullHandler())
