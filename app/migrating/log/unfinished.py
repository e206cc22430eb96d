"""Steps that started and did not finish.

On MySQL/MariaDB, where each DDL statement commits, a revision that fails
half-way leaves its log row started and never finished (steps.py); so does
one whose process was killed there. (Where DDL is transactional, PostgreSQL
and SQLite, the revision rolls back whole, and its row says it failed.)

While such a row is there, `db upgrade` and `db downgrade` refuse to run:
the schema is somewhere between two revisions and only a person can tell
where. `db stamp <revision>`, after a manual fix, records where it is and
closes the row. (The same idea as golang-migrate's "dirty" flag.)
"""
import sqlalchemy as sa
from alembic.util import CommandError

from ..database import committed, database_error, first_line
from .table import exists, table

STAMP_COMMAND = "python manage.py db stamp"
RESOLVED = "did not finish; resolved by db stamp"


def unfinished(connection):
    """[(revision, direction)] of the steps that did not finish, oldest
    first; [] when the database has no log."""
    if not exists(connection):
        return []
    with committed(connection):
        rows = connection.execute(
            sa.select(table.c.revision, table.c.direction)
            .where(table.c.finished_at.is_(None)).order_by(table.c.id))
        return [tuple(row) for row in rows]


def refuse_if_unfinished(connection, script):
    """Raise CommandError, with the way out, if a step did not finish."""
    rows = unfinished(connection)
    if rows:
        revision, direction = rows[0]
        raise CommandError(
            "revision {} did not finish its {} and may be partly applied; "
            "upgrade and downgrade are refused until that is resolved: {}".format(
                describe_revision(script, revision), direction,
                recovery_steps(script, revision, direction)))


def warning(connection, script):
    """The line `db current` adds when a step did not finish, or None."""
    rows = unfinished(connection)
    if not rows:
        return None
    revision, direction = rows[0]
    return ("revision {} did not finish its {}; the database may be between "
            "two revisions: {}".format(describe_revision(script, revision), direction,
                                       recovery_steps(script, revision, direction)))


def resolve(connection, now):
    """Close every unfinished step as failed (what `db stamp` does)."""
    with committed(connection):
        connection.execute(
            table.update().where(table.c.finished_at.is_(None)).values(
                finished_at=now, success=False,
                error=sa.func.coalesce(table.c.error, RESOLVED)))


def failure(script, failed, error, why=None):
    """The CommandError to raise for `failed`, what Recorder.failed returned
    for the running step that failed with `error`; `why` says what happened
    and what to do, when more is known than the error's own first line."""
    revision, direction, is_unfinished = failed
    cause = first_line(database_error(error))
    if is_unfinished:
        return CommandError(
            "revision {} failed part-way through its {} ({}); some of its "
            "changes were committed (MySQL and MariaDB commit each DDL "
            "statement) while alembic_version still names the revision "
            "before it: {}".format(
                describe_revision(script, revision), direction, why or cause,
                recovery_steps(script, revision, direction)))
    return CommandError(
        "revision {} failed and its {} was rolled back, the database is as "
        "before it{}".format(
            describe_revision(script, revision), direction,
            ": " + why if why else " ({}): fix the revision and run the command again".format(
                cause)))


def describe_revision(script, revision):
    doc = script.get_revision(revision).doc
    return "{} ({})".format(revision, doc) if doc else revision


def recovery_steps(script, revision, direction):
    before = script.get_revision(revision).down_revision or "base"
    if isinstance(before, tuple):
        before = " ".join(before)
    finished, undone = (revision, before) if direction == "upgrade" else (before, revision)
    return ("compare the schema with the revision, then either finish its "
            "changes by hand and run \"{stamp} {finished}\", or undo them and run "
            "\"{stamp} {undone}\"".format(stamp=STAMP_COMMAND, finished=finished,
                                          undone=undone))
