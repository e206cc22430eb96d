"""One migration at a time: `db upgrade`, `db downgrade` and `db stamp` hold
this lock for their whole run, so deploys started together apply each
revision once.

The lock belongs to the database session (PostgreSQL's advisory lock,
MySQL's GET_LOCK) or to the process (a lock file beside a SQLite database,
locked with filelock: flock on POSIX, msvcrt.locking on Windows), so a
process that dies, even by kill -9, releases it with its connection.
"""
import os
import sys
import time
import zlib
from contextlib import contextmanager

from alembic.util import CommandError

from .database import committed, describe

DEFAULT_TIMEOUT = 60.0
TIMEOUT_VARIABLE = "MIGRATION_LOCK_TIMEOUT"
POLL_SECONDS = 0.2
# One key for the app's migrations; PostgreSQL scopes advisory locks to the
# database, so other databases on the server do not share it.
POSTGRESQL_KEY = zlib.crc32(b"manage.py db migrations")


def lock_timeout(x_arguments):
    """Seconds to wait for the lock: `-x lock_timeout=N`, else the
    MIGRATION_LOCK_TIMEOUT variable, else 60."""
    raw = x_arguments.get("lock_timeout") or os.environ.get(TIMEOUT_VARIABLE)
    return seconds_setting(raw, DEFAULT_TIMEOUT, "migration lock timeout",
                           "set {} or -x lock_timeout=N".format(TIMEOUT_VARIABLE))


def seconds_setting(raw, default, name, how_to_set):
    """`raw` (the text of the setting `name`, or None for `default`) as a
    number of seconds, 0 or more; CommandError saying `how_to_set` it when it
    is not one."""
    if raw is None:
        return default
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise CommandError("{} {!r} is not a number of seconds: {}".format(
            name, raw, how_to_set))
    return seconds


@contextmanager
def migration_lock(connection, timeout):
    """Hold the migration lock of `connection`'s database for the block.

    Says so in one line on stderr when another process holds it; raises
    CommandError naming the lock when `timeout` seconds pass first.
    """
    lock = LOCKS[connection.dialect.name](connection)
    if not lock.try_acquire():
        print("waiting for the migration lock {} on {}: another migration is "
              "running (giving up after {:g}s)".format(
                  lock.name, describe(connection.engine.url), timeout),
              file=sys.stderr, flush=True)
        deadline = time.monotonic() + timeout
        while not lock.try_acquire():
            if time.monotonic() >= deadline:
                raise CommandError(
                    "gave up after {:g}s waiting for the migration lock {} on {}: "
                    "another migration still holds it; retry when it ends, or "
                    "wait longer with {}=<seconds>".format(
                        timeout, lock.name, describe(connection.engine.url),
                        TIMEOUT_VARIABLE))
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()


class PostgreSQLLock:
    def __init__(self, connection):
        self.connection = connection
        self.name = "pg_advisory_lock({})".format(POSTGRESQL_KEY)

    def try_acquire(self):
        return _scalar(self.connection, "SELECT pg_try_advisory_lock(%(key)s)",
                       {"key": POSTGRESQL_KEY})

    def release(self):
        _scalar(self.connection, "SELECT pg_advisory_unlock(%(key)s)",
                {"key": POSTGRESQL_KEY})


class MySQLLock:
    def __init__(self, connection):
        self.connection = connection
        # GET_LOCK names are server-wide: include the database.
        self.key = "migrations:{}".format(connection.engine.url.database)[:64]
        self.name = "GET_LOCK('{}')".format(self.key)

    def try_acquire(self):
        return _scalar(self.connection, "SELECT GET_LOCK(%(key)s, 0)",
                       {"key": self.key}) == 1

    def release(self):
        _scalar(self.connection, "SELECT RELEASE_LOCK(%(key)s)", {"key": self.key})


class SQLiteLock:
    """An exclusive lock on the file <database>.migration-lock: SQLite's own
    locks last one transaction, and a migration run is several."""

    def __init__(self, connection):
        # Imported here: only commands that change a SQLite database need it,
        # and `db current` should not pay for it.
        from filelock import FileLock

        database = connection.engine.url.database
        path = None if database in (None, "", ":memory:") else database + ".migration-lock"
        self.file_lock = None if path is None else FileLock(path)
        self.name = "file {}".format(path)

    def try_acquire(self):
        from filelock import Timeout

        if self.file_lock is None:  # an in-memory database has one connection
            return True
        try:
            self.file_lock.acquire(timeout=0)
            return True
        except Timeout:
            return False

    def release(self):
        if self.file_lock is not None:
            self.file_lock.release()


LOCKS = {"postgresql": PostgreSQLLock, "mysql": MySQLLock, "sqlite": SQLiteLock}


def _scalar(connection, statement, parameters):
    # Session locks outlive transactions; commit at once, as alembic must find
    # the connection outside a transaction when it starts.
    with committed(connection):
        return connection.exec_driver_sql(statement, parameters).scalar()
