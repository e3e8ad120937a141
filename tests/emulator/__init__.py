"""A local RDS IAM emulator: real PostgreSQL and MariaDB servers verifying SigV4 tokens."""

from .harness import (
    DATABASE,
    IAM_USER,
    LONG_TERM,
    REGION,
    TEMPORARY,
    Emulator,
    EmulatorUnavailable,
    FakeKey,
    ServerInfo,
    install_hint,
    unavailable_reason,
)

__all__ = [
    "DATABASE",
    "IAM_USER",
    "LONG_TERM",
    "REGION",
    "TEMPORARY",
    "Emulator",
    "EmulatorUnavailable",
    "FakeKey",
    "ServerInfo",
    "install_hint",
    "unavailable_reason",
]
