"""Revisions that started and did not finish.

Before a revision's upgrade() or downgrade() runs, a row naming it goes into
the table unfinished_migrations, in the revision's own transaction; when the
revision finishes, the row goes with the same commit that moves
alembic_version. So:

- where DDL is transactional (PostgreSQL, SQLite), a failing revision rolls
  back with its row, and nothing is left to resolve;
- on MySQL/MariaDB, where each DDL statement commits, the row is committed
  with the first one, and stays when the revision fails half-way.

While a row is there, `db upgrade` and `db downgrade` refuse to run: the
schema is somewhere between two revisions and only a person can tell where.
`db stamp <revision>`, after a manual fix, records where it is and clears the
row. (The same idea as golang-migrate's "dirty" flag.)
"""
from functools import wraps

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from .database import committed, first_line

TABLE_NAME = "unfinished_migrations"
STAMP_COMMAND = "python manage.py db stamp"

table = sa.Table(
    TABLE_NAME,
    sa.MetaData(),
    sa.Column("revision", sa.String(32), primary_key=True),
    sa.Column("direction", sa.String(9), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False,
              server_default=sa.func.current_timestamp()),
)


def is_bookkeeping_table(name):
    """True for this table; autogenerate and `db check` leave it alone, as
    they leave alembic_version."""
    return name == TABLE_NAME


def prepare(connection):
    """Create the table if it is missing (committed at once)."""
    with committed(connection):
        table.create(connection, checkfirst=True)


def unfinished(connection):
    """[(revision, direction)] of revisions that did not finish."""
    with committed(connection):
        rows = connection.execute(
            sa.select(table.c.revision, table.c.direction).order_by(table.c.started_at))
        return [tuple(row) for row in rows]


def refuse_if_unfinished(connection, script):
    """Raise CommandError, with the way out, if a revision did not finish."""
    rows = unfinished(connection)
    if rows:
        revision, direction = rows[0]
        raise CommandError(
            "revision {} did not finish its {} and may be partly applied; "
            "upgrade and downgrade are refused until that is resolved: {}".format(
                describe_revision(script, revision), direction,
                recovery_steps(script, revision, direction)))


def clear(connection):
    """Forget every unfinished revision (what `db stamp` does)."""
    with committed(connection):
        connection.execute(table.delete())


def mark_while_running(script):
    """Make each revision's upgrade() and downgrade() record the revision as
    unfinished before doing anything else."""
    for revision in script.walk_revisions():
        module = revision.module
        for direction in ("upgrade", "downgrade"):
            function = getattr(module, direction)
            if not getattr(function, "marks_unfinished", False):
                setattr(module, direction, _marking(function, revision.revision, direction))


def _marking(function, revision, direction):
    @wraps(function)
    def run():
        RUNNING.update(revision=revision, direction=direction)
        op.get_bind().execute(table.insert().values(revision=revision, direction=direction))
        function()

    run.marks_unfinished = True
    return run


# The revision whose code runs now in this process, to name it when it fails.
RUNNING = {}


def on_version_apply(ctx, step, heads, run_args):
    """alembic's callback after each step, inside the step's transaction: the
    revision finished, so its row goes with the same commit."""
    if not step.is_stamp:
        ctx.connection.execute(table.delete().where(table.c.revision == RUNNING.get("revision")))
    RUNNING.clear()


def failure(connection, script, error):
    """The CommandError to raise when the running revision failed with `error`."""
    revision, direction = RUNNING.get("revision"), RUNNING.get("direction")
    RUNNING.clear()
    if revision is None:
        return None
    cause = first_line(database_error(error))
    if (revision, direction) in unfinished(connection):
        return CommandError(
            "revision {} failed part-way through its {} ({}); some of its "
            "changes were committed (MySQL and MariaDB commit each DDL "
            "statement) while alembic_version still names the revision "
            "before it: {}".format(
                describe_revision(script, revision), direction, cause,
                recovery_steps(script, revision, direction)))
    return CommandError(
        "revision {} failed and its {} was rolled back, the database is as "
        "before it ({}): fix the revision and run the command again".format(
            describe_revision(script, revision), direction, cause))


def database_error(error):
    """What the database said, when `error` comes from it, even wrapped in
    another exception (alembic-postgresql-enum wraps a rejected enum value
    in a ValueError), else `error`."""
    seen = error
    while seen is not None:
        if getattr(seen, "orig", None) is not None:
            return seen.orig
        seen = seen.__cause__
    return error


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
