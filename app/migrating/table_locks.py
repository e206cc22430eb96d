"""How long a statement of `db upgrade` or `db downgrade` waits for a lock on
a table: 10 seconds by default, so that a revision stuck behind a long
transaction fails instead of queueing every other query on that table
behind it (the advice of strong_migrations and squawk).

PostgreSQL: the session's lock_timeout; the revision fails and rolls back
whole. MariaDB/MySQL: the session's lock_wait_timeout (metadata locks, which
DDL takes) and innodb_lock_wait_timeout (row locks, which a data update
takes). SQLite has one writer at a time and waits for it by its own busy
timeout; nothing is set there.

The setting: `-x table_lock_timeout=N`, else the TABLE_LOCK_TIMEOUT
environment variable, else the app's TABLE_LOCK_TIMEOUT config key, else 10;
0 switches it off (wait as long as the server's own default).
"""
import math
import os
import re

from flask import current_app

from .database import committed, database_error
from .lock import seconds_setting

DEFAULT_SECONDS = 10.0
SETTING = "TABLE_LOCK_TIMEOUT"
X_ARGUMENT = "table_lock_timeout"
# PostgreSQL's SQLSTATE lock_not_available; MySQL's ER_LOCK_WAIT_TIMEOUT.
POSTGRESQL_LOCK_NOT_AVAILABLE = "55P03"
MYSQL_LOCK_WAIT_TIMEOUT = 1205
# The table a statement locks: ALTER TABLE x, CREATE [UNIQUE] INDEX ... ON x,
# DROP TABLE x, UPDATE x, DELETE FROM x, INSERT INTO x, RENAME TABLE x...
LOCKED_TABLE = re.compile(
    r"\b(?:ALTER\s+TABLE(?:\s+IF\s+EXISTS)?(?:\s+ONLY)?|\bON|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|"
    r"UPDATE|DELETE\s+FROM|INSERT\s+INTO|RENAME\s+TABLE|TRUNCATE(?:\s+TABLE)?|LOCK\s+TABLE)"
    r"\s+([`\"]?[\w.]+[`\"]?)", re.IGNORECASE)


def table_lock_timeout(x_arguments):
    """The setting's seconds (0: off)."""
    raw = x_arguments.get(X_ARGUMENT) or os.environ.get(SETTING) \
        or current_app.config.get(SETTING)
    return seconds_setting(None if raw is None else str(raw), DEFAULT_SECONDS,
                           "table lock timeout",
                           "set {} or -x {}=N (0 switches it off)".format(SETTING, X_ARGUMENT))


def limit_lock_waits(connection, seconds):
    """Make each statement of `connection`'s session wait at most `seconds`
    for a lock (nothing when 0, or on SQLite)."""
    if not seconds or connection.dialect.name == "sqlite":
        return
    with committed(connection):
        for statement in session_settings(connection.dialect.name, seconds):
            connection.exec_driver_sql(statement)


def session_settings(dialect_name, seconds):
    """The SET statements that bound lock waits to `seconds` on this dialect
    (--sql scripts start with them too)."""
    if not seconds or dialect_name == "sqlite":
        return []
    if dialect_name == "postgresql":
        return ["SET lock_timeout = '{}ms'".format(int(seconds * 1000))]
    whole = max(1, int(math.ceil(seconds)))  # MySQL counts whole seconds
    return ["SET SESSION lock_wait_timeout = {}".format(whole),
            "SET SESSION innodb_lock_wait_timeout = {}".format(whole)]


def is_lock_timeout(error):
    """Whether `error` is the server giving up waiting for a lock."""
    cause = database_error(error)
    if getattr(cause, "pgcode", None) == POSTGRESQL_LOCK_NOT_AVAILABLE:
        return True
    arguments = getattr(cause, "args", ())
    return bool(arguments) and arguments[0] == MYSQL_LOCK_WAIT_TIMEOUT


def locked_table(error):
    """The table the statement that timed out was waiting for, or None."""
    statement = getattr(error, "statement", None) or ""
    seen = error.__cause__
    while not statement and seen is not None:
        statement = getattr(seen, "statement", None) or ""
        seen = seen.__cause__
    found = LOCKED_TABLE.search(statement)
    return found.group(1).strip('`"') if found else None


def timed_out(seconds, error):
    """What a lock timeout means, for the one-line failure: how long, which
    table, the way out."""
    table = locked_table(error)
    return ("it waited {} for a lock on {} that another transaction holds; retry "
            "when that transaction ends, or wait longer with {}=<seconds> (0 waits "
            "as long as the server does)".format(
                "more than {:g}s".format(seconds) if seconds else "longer than the server allows",
                "table " + table if table else "a table", SETTING))
