"""Writing the log: a row for each upgrade, downgrade and stamp step.

Online, each revision's upgrade()/downgrade() is wrapped so that its start
is known; its row is written when alembic reports the step done
(on_version_apply), in the step's own transaction, with the same commit
that moves alembic_version. So:

- where DDL is transactional (PostgreSQL, SQLite), a failing revision rolls
  back with everything it did, and a row saying it failed is written after
  the rollback, on its own;
- on MySQL/MariaDB, where each DDL statement commits, the row is written
  before the revision runs, and finished with the step: a revision that
  fails half-way leaves its row unfinished (unfinished.py);
- a revision that commits part by part (an online operation's autocommit
  block, online/resume.py) has its row written, on PostgreSQL too, with
  the first part it commits, and keeps in it how many operations are done:
  a run that stops part-way leaves the row unfinished, and the next run of
  the revision closes it and goes on from there.

In --sql scripts each step ends with an INSERT of its row, so that whoever
runs the script leaves the same log.
"""
import datetime
import getpass
import socket
import time
from contextlib import contextmanager
from functools import wraps

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import CreateTable

from ..database import committed, database_error, first_line
from ..online import resume
from .checksum import checksum_of_file
from .table import ERROR_LENGTH, message_of, table

# The recorder of the database whose revisions run now in this process (a
# multidb run has one per database and runs them in turn).
ACTIVE = {}
# How a running step that failed left its row: rolled back whole; part-way
# and only a person can tell where (db stamp); part-way, counted, so the
# next run goes on from there.
ROLLED_BACK, UNFINISHED, RESUMABLE = "rolled back", "unfinished", "resumable"
RESUMED = "stopped part-way; the next run went on from there"


class Who:
    """Who runs the command, as each row names them."""

    def __init__(self, connection):
        self.database_user = None
        if connection.dialect.name != "sqlite":  # SQLite has no users
            with committed(connection):
                self.database_user = connection.execute(
                    sa.select(sa.func.current_user())).scalar()
        self.os_user = _os_user()
        self.host = socket.gethostname()

    def row(self):
        return {"database_user": self.database_user, "os_user": self.os_user,
                "host": self.host}

    @staticmethod
    def now():
        return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Recorder:
    """The log writer of one database's online run."""

    def __init__(self, connection, script):
        self.connection = connection
        self.script = script
        self.who = Who(connection)
        self.writes_before_running = connection.dialect.name == "mysql"
        self.running = None  # the step whose code runs now, as a dict
        self.table_lock_timeout = 0  # seconds; set for upgrade and downgrade
        # The steps that stopped part-way, counted, that this run goes on
        # from (unfinished.Unfinished); set for upgrade and downgrade.
        self.interrupted = []
        if self.writes_before_running:
            # A revision that fails on its first statement committed none of
            # its own: its row can say it failed, not that it is unfinished.
            sa.event.listen(connection, "after_cursor_execute", self._count_statement)

    def _count_statement(self, *arguments):
        if self.running is not None:
            self.running["statements"] += 1

    @contextmanager
    def active(self):
        """Make the revisions that run report to this recorder, until the
        command ends."""
        ACTIVE["recorder"] = self
        try:
            yield self
        finally:
            ACTIVE.pop("recorder", None)

    def started(self, revision, direction):
        """A revision's upgrade() or downgrade() begins; a run of it that
        stopped part-way, counted, is closed and gone on from."""
        self.running = {"revision": revision, "direction": direction,
                        "started_at": self.who.now(), "clock": time.monotonic(), "id": None,
                        "statements": 0}
        connection = op.get_bind()
        interrupted = next((step for step in self.interrupted
                            if (step.revision, step.direction) == (revision, direction)), None)
        steps_done = resume_key = None
        if interrupted is not None:
            steps_done, resume_key = interrupted.steps_done, interrupted.resume_key
            connection.execute(table.update().where(table.c.id == interrupted.id).values(
                finished_at=self.running["started_at"], success=False,
                error=sa.func.coalesce(table.c.error, RESUMED)))
        if self.writes_before_running or interrupted is not None:
            result = connection.execute(table.insert().values(self._row(
                revision, direction, started_at=self.running["started_at"],
                steps_done=steps_done, resume_key=resume_key)))
            self.running["id"] = result.inserted_primary_key[0]
        resume.start(self, op.get_context(), steps_done or 0, resume_key)
        self.running["statements"] = 0

    def checkpoint(self, done):
        """`done` operations of the running step are done: record it, in the
        transaction that commits them (writing the row first, if none is)."""
        connection = op.get_bind()
        if self.running["id"] is None:
            result = connection.execute(table.insert().values(self._row(
                self.running["revision"], self.running["direction"],
                started_at=self.running["started_at"], steps_done=done)))
            self.running["id"] = result.inserted_primary_key[0]
        else:
            connection.execute(table.update().where(table.c.id == self.running["id"])
                               .values(steps_done=done, resume_key=None))

    def save_key(self, connection, key):
        """A backfill of the running step has done the keys before `key`."""
        connection.execute(table.update().where(table.c.id == self.running["id"])
                           .values(resume_key=key))

    def on_version_apply(self, ctx, step, heads, run_args):
        """alembic's callback after each step, inside the step's transaction."""
        if step.is_stamp:
            self._stamped(step)
            return
        running, self.running = self.running, None
        resume.stop()
        finished = {"finished_at": self.who.now(), "success": True,
                    "duration_ms": _milliseconds_since(running["clock"])}
        if running["id"] is None:
            ctx.connection.execute(table.insert().values(self._row(
                running["revision"], running["direction"],
                started_at=running["started_at"], **finished)))
        else:
            ctx.connection.execute(
                table.update().where(table.c.id == running["id"]).values(**finished))

    def _stamped(self, step):
        now = self.who.now()
        rows = [dict(self.who.row(), **row_of(revision, direction, started_at=now,
                                               finished_at=now, duration_ms=0, success=True))
                for revision, direction in stamped(step)]
        if rows:
            self.connection.execute(table.insert(), rows)

    def failed(self, error):
        """After the failure of the running step and its rollback: record it.
        Return (revision, direction, how): how its row is left, ROLLED_BACK,
        UNFINISHED (MySQL committed part of it) or RESUMABLE (it committed
        part of itself, counted); None when no revision code was running."""
        running, self.running = self.running, None
        resume.stop()
        if running is None:
            return None
        line = first_line(database_error(error))[:ERROR_LENGTH]
        failed = dict(finished_at=self.who.now(), success=False, error=line,
                      duration_ms=_milliseconds_since(running["clock"]))
        with committed(self.connection):
            row = running["id"] is not None and self.connection.execute(
                sa.select(table.c.id, table.c.steps_done)
                .where(table.c.id == running["id"])).first()
            if row and (row.steps_done is not None or running["statements"]):
                self.connection.execute(
                    table.update().where(table.c.id == running["id"]).values(error=line))
                how = RESUMABLE if row.steps_done is not None else UNFINISHED
                return running["revision"], running["direction"], how
            if row:  # committed by the failing DDL, which did not run
                self.connection.execute(
                    table.update().where(table.c.id == running["id"]).values(**failed))
            else:
                self.connection.execute(table.insert().values(self._row(
                    running["revision"], running["direction"],
                    started_at=running["started_at"], **failed)))
        return running["revision"], running["direction"], ROLLED_BACK

    def _row(self, revision, direction, **values):
        return dict(self.who.row(), **row_of(self.script.get_revision(revision), direction,
                                              **values))


def on_version_apply(ctx, step, heads, run_args):
    """alembic's callback after each online step: the active recorder's."""
    ACTIVE["recorder"].on_version_apply(ctx, step, heads, run_args)


def record_in_script(ctx, step, heads, run_args):
    """alembic's callback after each step of a --sql script: the INSERT of
    the step's row (or rows, for a stamp), timed and attributed by the
    database that runs the script."""
    dialect = ctx.dialect.name
    now = sa.literal_column(UTC_NOW[dialect])
    if step.is_stamp:
        changes = stamped(step)
    else:
        changes = [(step.up_revision, "upgrade" if step.is_upgrade else "downgrade")]
    for revision, direction in changes:
        ctx.execute(table.insert().inline().values(
            database_user=None if dialect == "sqlite" else sa.func.current_user(),
            **row_of(revision, direction, started_at=now, finished_at=now, success=True)))


def create_in_script(ctx):
    """The log's CREATE TABLE for a --sql script, run or not before."""
    ddl = str(CreateTable(table).compile(dialect=ctx.dialect)).strip()
    ctx.execute(ddl.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1))


# The current UTC time in SQL, for rows written by --sql scripts.
UTC_NOW = {"postgresql": "timezone('utc', now())", "mysql": "UTC_TIMESTAMP(6)",
           "sqlite": "CURRENT_TIMESTAMP"}


def row_of(revision, direction, **values):
    """A row's values for the step `direction` of `revision` (a Script)."""
    return dict(revision=revision.revision, direction=direction,
                message=message_of(revision), checksum=checksum_of_file(revision.path),
                **values)


def stamped(step):
    """[(revision, "unstamp" or "stamp")] for the revisions a stamp step
    marks not applied (newest first) or applied (oldest first)."""
    before = _with_ancestors(step.revision_map, step.source_revision_ids)
    after = _with_ancestors(step.revision_map, step.destination_revision_ids)
    return ([(revision, "unstamp") for revision in reversed(before) if revision not in after]
            + [(revision, "stamp") for revision in after if revision not in before])


def reporting_steps(work):
    """Alembic's work `work` (its fn: the steps an upgrade or downgrade
    runs), with each revision step made to tell the active recorder when it
    starts: only the revisions that run are touched, not the whole history."""
    if getattr(work, "reports_steps", False):
        return work

    @wraps(work)
    def reporting(rev, migration_context):
        found = list(work(rev, migration_context))
        for step in found:
            revision = getattr(step, "revision", None)  # a stamp step runs no code
            if revision is not None:
                step.migration_fn = _reporting(
                    step.migration_fn, revision.revision,
                    "upgrade" if step.is_upgrade else "downgrade")
        return found

    reporting.reports_steps = True
    return reporting


def _reporting(function, revision, direction):
    @wraps(function)
    def run(*args, **kwargs):
        ACTIVE["recorder"].started(revision, direction)
        function(*args, **kwargs)

    return run


def _with_ancestors(revision_map, revisions):
    """The revisions (Scripts) `revisions` and their ancestors, oldest first."""
    if not revisions:
        return []
    return list(reversed(list(revision_map.iterate_revisions(revisions, "base"))))


def _milliseconds_since(clock):
    return int((time.monotonic() - clock) * 1000)


def _os_user():
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # no name in the environment or passwd
        return None
