"""op.backfill: change the rows of a table in batches, each batch in its own
short transaction, so that the running app's writes never wait long for a
row the migration holds.

    op.backfill("users", {"nickname": "anonymous"}, where="nickname IS NULL")
    op.backfill("users", {"email": sa.text("lower(email)")})

Rows are taken by ranges of an integer key (the primary key `id` by
default): UPDATE ... WHERE id >= :start AND id < :end [AND <where>], then
COMMIT, then a pause. A batch that takes longer than BATCH_SECONDS makes
the next one half as big (never below MIN_BATCH); a quick one lets it grow
back to `batch_size`. The range goes to the key's maximum when the backfill
ends, read again so that rows written meanwhile are done too.

Each batch records where it stopped in the migration log, in the same
transaction: a run that is killed or fails (a lock it waited for too long,
TABLE_LOCK_TIMEOUT) is resumed by running `db upgrade` again, from the
first key not yet done (resume.py). Progress goes to stderr: a bar at a
terminal, a line every tenth otherwise.

On SQLite the batches run inside the revision's transaction (one writer at
a time; nothing to let through), with no pause; so they do in a multidb
repository, whose databases migrate in transactions committed together. In
a --sql script the backfill is one UPDATE.
"""
import time

import sqlalchemy as sa
from alembic.operations import Operations, ops

from . import resume
from .progress import Progress

BATCH_SIZE = 1000
PAUSE = 0.02
# A batch longer than this holds its rows' locks too long for the writers
# that wait on them: the next batch is halved.
BATCH_SECONDS = 0.05
MIN_BATCH = 50
# How many times the key's maximum is read again at the end, for rows
# written while the backfill ran.
CATCH_UP_ROUNDS = 3


@Operations.register_operation("backfill")
class BackfillOp(ops.MigrateOperation):
    """An UPDATE of a table's rows in batches of its key."""

    def __init__(self, table_name, values, where=None, key="id", batch_size=BATCH_SIZE,
                 pause=PAUSE, schema=None):
        self.table_name = table_name
        self.values = dict(values)
        self.where = where
        self.key = key
        self.batch_size = batch_size
        self.pause = pause
        self.schema = schema

    @classmethod
    def backfill(cls, operations, table_name, values, where=None, key="id",
                 batch_size=BATCH_SIZE, pause=PAUSE, schema=None):
        """Set `values` ({column: value or SQL expression}) on the rows of
        `table_name` that match `where` (SQL text), in batches of
        `batch_size` keys, each committed on its own, with `pause` seconds
        between them; resumed where it stopped when run again."""
        return operations.invoke(cls(table_name, values, where, key, batch_size, pause, schema))

    def columns(self):
        return sorted(self.values)

    def table(self):
        return sa.table(self.table_name, sa.column(self.key),
                        *[sa.column(name) for name in self.columns()], schema=self.schema)

    def statement(self, start=None, end=None):
        """The UPDATE of the rows whose key is in [start, end) (all of them
        without a range)."""
        table = self.table()
        statement = table.update().values({name: _sql_value(value)
                                           for name, value in self.values.items()})
        if start is not None:
            key = table.c[self.key]
            statement = statement.where(key >= start).where(key < end)
        if self.where:
            statement = statement.where(sa.text(self.where))
        return statement


def _sql_value(value):
    """A value as SQL: expressions as they are; Python values as literals
    typed by their Python type (a --sql script renders them inline)."""
    if isinstance(value, sa.sql.ClauseElement):
        return value
    return sa.null() if value is None else sa.literal(value)


@Operations.implementation_for(BackfillOp)
def backfill(operations, operation):
    context = operations.migration_context
    if context.as_sql:
        operations.impl.execute(operation.statement())
        return
    if not resume.commits_part_by_part(context):  # the batches run in its transaction
        Batches(operations, operation, own_transactions=False).run()
        return
    with context.autocommit_block():
        Batches(operations, operation, own_transactions=True).run()


class Batches:
    """One backfill's run over the key range."""

    def __init__(self, operations, operation, own_transactions):
        self.operation = operation
        self.connection = operations.get_bind()
        self.own_transactions = own_transactions
        self.pause = operation.pause if own_transactions else 0
        self.size = operation.batch_size
        self.step = resume.current()

    def run(self):
        low, high = self.key_range()
        if high is None:
            return
        if not all(isinstance(key, int) for key in (low, high)):
            raise ValueError("op.backfill goes by an integer key, and {}.{} is not one: "
                             "name one with key=...".format(self.operation.table_name,
                                                            self.operation.key))
        start = low
        if self.step is not None and self.step.resume_key is not None:
            start = max(low, int(self.step.resume_key))
        progress = Progress("backfill {}.{}".format(
            self.operation.table_name, ", ".join(self.operation.columns())),
            high - low + 1)
        for _ in range(CATCH_UP_ROUNDS):
            while start <= high:
                end = start + self.size
                started = time.monotonic()
                rows = self.batch(start, end)
                self.adapt(time.monotonic() - started)
                start = end
                progress.update(min(start, high + 1) - low, rows)
                if self.pause and start <= high:
                    time.sleep(self.pause)
            _, newest = self.key_range()
            if newest is None or newest <= high:
                break
            high = newest
            progress.total = high - low + 1
        progress.finish()

    def key_range(self):
        table = self.operation.table()
        key = table.c[self.operation.key]
        return tuple(self.connection.execute(sa.select(sa.func.min(key),
                                                       sa.func.max(key))).first())

    def batch(self, start, end):
        """Update the rows in [start, end) and record `end` as where the
        backfill resumes, in one transaction; the rows changed."""
        if not self.own_transactions:
            rows = self.connection.execute(self.operation.statement(start, end)).rowcount
            self.record(end)
            return rows
        self.connection.exec_driver_sql("BEGIN")
        try:
            rows = self.connection.execute(self.operation.statement(start, end)).rowcount
            self.record(end)
            self.connection.exec_driver_sql("COMMIT")
        except BaseException:
            self.connection.exec_driver_sql("ROLLBACK")
            raise
        return rows

    def record(self, end):
        if self.step is not None:
            self.step.save_key(self.connection, end)

    def adapt(self, seconds):
        """Halve the next batch after a slow one; let it grow back after a
        quick one."""
        if seconds > BATCH_SECONDS:
            self.size = max(MIN_BATCH, self.size // 2)
        elif seconds < BATCH_SECONDS / 4:
            self.size = min(self.operation.batch_size, self.size * 2)
