"""A local RDS IAM emulator: real PostgreSQL and MariaDB servers verifying SigV4 tokens (and the
PostgreSQL one Aurora DSQL tokens too: ``Emulator.dsql``)."""

from .harness import (
    DATABASE,
    DSQL_ADMIN,
    DSQL_CLUSTER_ID,
    DSQL_ROLE,
    IAM_USER,
    LONG_TERM,
    REGION,
    TEMPORARY,
    DsqlInfo,
    Emulator,
    EmulatorUnavailable,
    FakeKey,
    ServerInfo,
    install_hint,
    unavailable_reason,
)

__all__ = [
    "DATABASE",
    "DSQL_ADMIN",
    "DSQL_CLUSTER_ID",
    "DSQL_ROLE",
    "IAM_USER",
    "LONG_TERM",
    "REGION",
    "TEMPORARY",
    "DsqlInfo",
    "Emulator",
    "EmulatorUnavailable",
    "FakeKey",
    "ServerInfo",
    "install_hint",
    "unavailable_reason",
]
