"""Checked by ``nox -s typecheck`` (mypy --strict), not run by pytest: ``driver=`` picks the
connection type callers get back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import MySQLdb.connections
import psycopg
import psycopg2.extensions
import pymysql.connections
import pymysql.cursors
from mysql.connector.abstracts import MySQLConnectionAbstract
from psycopg.rows import TupleRow
from typing_extensions import assert_type

import rds_iam_auth

HOST = "mydb.abc123.us-east-1.rds.amazonaws.com"


def check(c: rds_iam_auth.Connector, name: str) -> None:
    assert_type(c.connect(HOST, "u", driver="psycopg"), psycopg.Connection[TupleRow])
    assert_type(
        c.connect(HOST, "u", driver="pymysql"),
        pymysql.connections.Connection[pymysql.cursors.Cursor],
    )
    assert_type(c.connect(HOST, "u", driver="psycopg2"), psycopg2.extensions.connection)
    assert_type(c.connect(HOST, "u", driver="mysql.connector"), MySQLConnectionAbstract)
    assert_type(c.connect(HOST, "u", driver="mysqlclient"), MySQLdb.connections.Connection)
    assert_type(c.connect(HOST, "u", driver="pg8000"), Any)  # pg8000 ships no types
    assert_type(c.connect(HOST, "u", driver=name), Any)
    assert_type(
        c.creator(HOST, "u", driver="psycopg", dbname="app"),
        Callable[[], psycopg.Connection[TupleRow]],
    )
    assert_type(rds_iam_auth.connect(HOST, "u", driver="psycopg2"), psycopg2.extensions.connection)
