"""A revision that commits step by step, and a rerun that goes on from the
step it stopped at.

An online operation cannot run in the revision's transaction (PostgreSQL
refuses CREATE INDEX CONCURRENTLY in one; a backfill commits each batch),
so a revision that has one commits what came before it, and then commits
again after each operation that follows. A revision stopped part-way (the
process killed, a lock waited for too long, rows that refuse a
constraint) therefore has some of its operations committed and others not.
To make a plain `db upgrade` finish it, the migration log counts them:

- the revision's top-level operations are numbered as they run (each
  op.<name>() call, and each `with op.batch_alter_table(...)` block, is
  one; what an operation does inside itself is part of it);
- from the first autocommit block (every online operation opens one, as
  may a hand-written revision), the log row of the running step holds how
  many are done (`steps_done`), written in the same transaction as their
  work; a backfill also records the key it has reached (`resume_key`);
- the next run of the same revision (same direction, same checksum) skips
  the operations done, and goes on with the one that was interrupted: each
  online operation reads the schema first, so it finishes whatever the
  interrupted run left (an invalid index is dropped and built again, a
  constraint added NOT VALID is validated), and a backfill starts at the
  key it had reached.

Only PostgreSQL and MariaDB/MySQL commit part of a revision this way, and
only in a transaction the revision owns: SQLite runs each revision whole in
one transaction, and a multidb run commits all its databases together.
"""
from contextlib import contextmanager

from alembic import op
from alembic.operations.ops import CreateTableOp

# The step of the revision running now, or None.
ACTIVE = {"step": None}
RESUMING_DIALECTS = ("postgresql", "mysql")


def commits_part_by_part(migration_context):
    """Whether a revision may commit part of itself here (an online
    operation's autocommit block): on PostgreSQL and MariaDB/MySQL, in a
    transaction of its own, not one a multidb run holds for all databases."""
    return migration_context.dialect.name in RESUMING_DIALECTS \
        and not migration_context._in_external_transaction


def current():
    """The RunningStep of the revision running now, or None (none runs, or
    in a --sql script)."""
    return ACTIVE["step"]


class RunningStep:
    """One revision's upgrade() or downgrade() as it runs: which top-level
    operation it is at, how many are done, and how they are recorded.
    `log` records them (log/steps.py's Recorder): log.checkpoint(done) and
    log.save_key(connection, key) in the caller's transaction."""

    def __init__(self, log, migration_context, steps_done=0, resume_key=None):
        self.log = log
        self.context = migration_context
        self.first_to_run = steps_done
        self.interrupted_key = resume_key
        self.counter = 0  # the number of the next top-level operation
        self.depth = 0  # > 0 inside an operation
        self.in_block = False  # inside an autocommit block
        # Whether part of the revision is committed: from then on, each
        # operation is committed as it ends, with the count.
        self.committing = steps_done > 0

    @property
    def resume_key(self):
        """The key a backfill reached before the interruption, for the
        operation that was interrupted; None for every other one."""
        running = self.counter - 1 if self.depth else self.counter
        return self.interrupted_key if running == self.first_to_run else None

    def save_key(self, connection, key):
        """Record in the caller's transaction that a backfill has done the
        keys before `key`."""
        self.log.save_key(connection, str(key))

    def entering_block(self):
        """An autocommit block begins: what the revision did so far is about
        to be committed; record it in the same transaction."""
        done = self.counter - 1 if self.depth else self.counter
        self.log.checkpoint(max(done, self.first_to_run))
        self.committing = True

    def finished(self, index):
        """Operation `index` ended: once the revision commits part by part,
        commit it with the count."""
        if not self.committing:
            return
        self.log.checkpoint(index + 1)
        if not self.in_block:
            with self.context.autocommit_block.original():
                pass  # commits the operation and its count, and begins anew


def start(log, migration_context, steps_done=0, resume_key=None):
    """Make the revision about to run count its operations into `log`;
    with `steps_done`, skip that many (a resumed run). Return the
    RunningStep, or None where revisions do not commit part by part."""
    ACTIVE["step"] = None
    if not commits_part_by_part(migration_context):
        return None
    step = RunningStep(log, migration_context, steps_done, resume_key)
    _install(op._proxy, migration_context)
    ACTIVE["step"] = step
    return step


def stop():
    """The revision has ended (or failed)."""
    ACTIVE["step"] = None


def _install(operations, migration_context):
    """Count the top-level operations of `operations` (the Operations the
    revisions call as `op`) and the autocommit blocks of `migration_context`,
    once."""
    if getattr(operations, "counts_steps", False):
        return
    operations.invoke = _counted_invoke(operations.invoke)
    operations.batch_alter_table = _counted_batch(operations.batch_alter_table)
    migration_context.autocommit_block = _checkpointed_block(migration_context.autocommit_block)
    operations.counts_steps = True


def _counted_invoke(invoke):
    def counted(operation):
        step = ACTIVE["step"]
        if step is None or step.depth:
            return invoke(operation)
        index = step.counter
        step.counter += 1
        if index < step.first_to_run:
            # Done by the interrupted run; what a revision may use of it.
            return operation.to_table() if isinstance(operation, CreateTableOp) else None
        step.depth += 1
        try:
            result = invoke(operation)
        finally:
            step.depth -= 1
        step.finished(index)
        return result

    return counted


def _counted_batch(batch_alter_table):
    @contextmanager
    def counted(*args, **kwargs):
        step = ACTIVE["step"]
        if step is None or step.depth:
            with batch_alter_table(*args, **kwargs) as batch:
                yield batch
            return
        index = step.counter
        step.counter += 1
        if index < step.first_to_run:
            yield SkippedBatch()
            return
        step.depth += 1
        try:
            with batch_alter_table(*args, **kwargs) as batch:
                yield batch
        finally:
            step.depth -= 1
        step.finished(index)

    return counted


def _checkpointed_block(autocommit_block):
    @contextmanager
    def checkpointed():
        step = ACTIVE["step"]
        if step is None:
            with autocommit_block():
                yield
            return
        step.entering_block()
        with autocommit_block():
            step.in_block = True
            try:
                yield
            finally:
                step.in_block = False

    checkpointed.original = autocommit_block
    return checkpointed


class SkippedBatch:
    """A `with op.batch_alter_table(...) as batch_op:` block the interrupted
    run committed: its operations do nothing."""

    def f(self, name):
        return op.f(name)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
