"""Steps that started and did not finish.

On MySQL/MariaDB, where each DDL statement commits, a revision that fails
half-way leaves its log row started and never finished (steps.py); so does
one whose process was killed there. (Where DDL is transactional, PostgreSQL
and SQLite, the revision rolls back whole, and its row says it failed.)

While such a row is there, `db upgrade` and `db downgrade` refuse to run:
the schema is somewhere between two revisions and only a person can tell
where. `db stamp <revision>`, after a manual fix, records where it is and
closes the row. (The same idea as golang-migrate's "dirty" flag.)

A revision that commits part by part (an online one, online/resume.py)
counts in its row the operations it has done. Such a row is no riddle: the
same command run again goes on from there, and is let through, provided
the revision's file is the one that ran (same checksum) and the command
goes the same way.
"""
from collections import namedtuple

import sqlalchemy as sa
from alembic.util import CommandError

from .. import doors
from ..database import committed
from ..errors import revision_failure
from .checksum import checksum_of_file
from .steps import RESUMABLE, UNFINISHED
from .table import exists, present_columns, table


class Unfinished(namedtuple("Unfinished",
                            "id revision direction steps_done resume_key checksum")):
    """A step that started and did not finish (its log row); steps_done is
    None unless the revision counted its operations as it committed them,
    resume_key the key its backfill had reached."""

    @property
    def resumable(self):
        return self.steps_done is not None

RESOLVED = "did not finish; resolved by db stamp"


def unfinished(connection):
    """The Unfinished steps, oldest first; [] when the database has no log."""
    if not exists(connection):
        return []
    present = {column.name for column in present_columns(connection)}
    added = [table.c[name] if name in present else sa.null()
             for name in ("steps_done", "resume_key")]
    with committed(connection):
        rows = connection.execute(
            sa.select(table.c.id, table.c.revision, table.c.direction, added[0], added[1],
                      table.c.checksum)
            .where(table.c.finished_at.is_(None)).order_by(table.c.id))
        return [Unfinished(*row) for row in rows]


def refuse_if_unfinished(connection, script, command):
    """Raise CommandError, with the way out, if a step did not finish and
    `command` (upgrade or downgrade) does not go on from it; return the
    unfinished steps it goes on from."""
    steps = unfinished(connection)
    for step in steps:
        name = describe_revision(script, step.revision)
        if not step.resumable:
            raise CommandError(
                "revision {} did not finish its {} and may be partly applied; "
                "upgrade and downgrade are refused until that is resolved: {}".format(
                    name, step.direction,
                    recovery_steps(script, step.revision, step.direction)))
        if step.direction != command:
            raise CommandError(
                "revision {} stopped part-way through its {}; finish it first: run "
                "{} again, which goes on from there".format(
                    name, step.direction, going_on(step.direction)))
        if step.checksum != current_checksum(script, step.revision):
            raise CommandError(
                "revision {} stopped part-way through its {}, and its file has changed "
                "since, so the operations it did no longer say where to go on from: {}".format(
                    name, step.direction,
                    recovery_steps(script, step.revision, step.direction)))
    return steps


def current_checksum(script, revision):
    found = script.get_revision(revision)
    return checksum_of_file(found.path) if found is not None else None


def warning(connection, script):
    """The line `db current` adds when a step did not finish, or None."""
    rows = unfinished(connection)
    if not rows:
        return None
    step = rows[0]
    if step.resumable:
        return ("revision {} stopped part-way through its {} ({} of its operations done); "
                "{} goes on from there".format(
                    describe_revision(script, step.revision), step.direction,
                    step.steps_done, going_on(step.direction)))
    return ("revision {} did not finish its {}; the database may be between "
            "two revisions: {}".format(describe_revision(script, step.revision),
                                       step.direction,
                                       recovery_steps(script, step.revision, step.direction)))


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
    revision, direction, how = failed
    cause = revision_failure(error, script.get_revision(revision).path)
    if how == RESUMABLE:
        return CommandError(
            "revision {} stopped part-way through its {}: {}; the operations it finished "
            "stay committed and counted in the migration log, and the next run goes on "
            "from there".format(
                describe_revision(script, revision), direction,
                why or "{}: fix the cause, then run {} again".format(
                    cause, going_on(direction))))
    if how == UNFINISHED:
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


def going_on(direction):
    """The command that goes on from a step that stopped part-way, counted."""
    if direction == "upgrade":
        return '"{}"'.format(doors.command("upgrade"))
    return 'the same "{}"'.format(doors.command("downgrade"))


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
            "\"{stamp} {undone}\"".format(stamp=doors.command("stamp"), finished=finished,
                                          undone=undone))
