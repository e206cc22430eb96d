"""A rehearsal of revisions: each one's upgrade() run offline, as `db upgrade
--sql` runs it, for one dialect, with every Alembic operation it invokes
recorded at the line of the revision file that invoked it, and (where
`--sql` renders them: PostgreSQL and MariaDB/MySQL) every SQL statement it
emits, at its line too. The rules read the operations; squawk reads the
statements.

On SQLite nothing is rendered: a batch operation copies the table, which
offline needs the table's definition that only the database has; the
operations are recorded without running them.
"""
import logging
import sys
from contextlib import contextmanager

from alembic.operations import Operations
from alembic.operations.ops import CreateTableOp
from alembic.runtime.environment import EnvironmentContext

from ..database import first_line

RENDERED_DIALECTS = ("postgresql", "mysql")


class Step:
    """One Alembic operation a revision invoked: the operation object
    (alembic.operations.ops), and the line that invoked it."""

    def __init__(self, operation, line):
        self.operation = operation
        self.line = line

    @property
    def table(self):
        return getattr(self.operation, "table_name", None)


class EnumValues:
    """alembic-postgresql-enum's op.sync_enum_values(...) call: the values
    the enum type has after it."""

    def __init__(self, enum_name, new_values, line):
        self.enum_name = enum_name
        self.new_values = list(new_values)
        self.line = line


class Statement:
    """One SQL statement of the rehearsal, and the revision file's line that
    emitted it (None for the transaction's BEGIN and COMMIT)."""

    def __init__(self, text, line):
        self.text = text
        self.line = line


class Rehearsal:
    """What running one revision's upgrade() recorded."""

    def __init__(self, script, database=None):
        self.script = script  # alembic.script.Script
        self.path = script.module.__file__
        self.database = database
        self.steps = []
        self.enum_values = []
        self.statements = []
        self.error = None  # why the run stopped early, and where
        self.error_line = None

    @property
    def revision(self):
        return self.script.revision

    def line_in_file(self):
        """The line of this revision's file that is running now."""
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.path:
                return frame.f_lineno
            frame = frame.f_back
        return None


class Recorder:
    """The output buffer alembic writes --sql statements to, and the
    wrapper of the operations the revision calls."""

    def __init__(self, dialect_name):
        self.renders = dialect_name in RENDERED_DIALECTS
        self.current = None

    # the output buffer
    def write(self, text):
        text = text.strip()
        if text and self.current is not None:
            self.current.statements.append(Statement(text, self.current.line_in_file()))

    def flush(self):
        pass

    def install(self, operations):
        operations.invoke = self.recording(operations.invoke)
        batch_alter_table = operations.batch_alter_table

        @contextmanager
        def recording_batch(*args, **kwargs):
            rehearsal = self.current
            with batch_alter_table(*args, **kwargs) as batch:
                batch.invoke = self.recording(batch.invoke)
                first_step = len(rehearsal.steps)
                yield batch
                batch_steps = rehearsal.steps[first_step:]
                first_statement = len(rehearsal.statements)
            # The batch ran its operations as the block closed; where each
            # gave one statement, each statement gets its operation's line.
            flushed = rehearsal.statements[first_statement:]
            if len(flushed) == len(batch_steps):
                for statement, step in zip(flushed, batch_steps):
                    statement.line = step.line

        operations.batch_alter_table = recording_batch
        if hasattr(operations, "sync_enum_values"):  # alembic-postgresql-enum
            operations.sync_enum_values = self.enum_sync

    def recording(self, invoke):
        def record_then_invoke(operation):
            self.current.steps.append(Step(operation, self.current.line_in_file()))
            if self.renders:
                return invoke(operation)
            # Not rendered (SQLite): give back what the revision may use.
            return operation.to_table() if isinstance(operation, CreateTableOp) else None

        return record_then_invoke

    def enum_sync(self, enum_schema=None, enum_name=None, new_values=(), *args, **kwargs):
        # Not run: it reads the type's columns from the database.
        self.current.enum_values.append(
            EnumValues(enum_name, new_values, self.current.line_in_file()))


def rehearse(config, script_directory, scripts, dialect_name, database=None):
    """Run the upgrade() of each of `scripts` (alembic Script objects, in
    the order they run) offline for `dialect_name`; return a
    Rehearsal for each. `database`: the bind name of a multidb repository,
    whose revisions take it as the engine_name argument."""
    recorder = Recorder(dialect_name)
    rehearsals = []
    with quiet_alembic(), \
            EnvironmentContext(config, script_directory, as_sql=True) as environment:
        environment.configure(dialect_name=dialect_name, output_buffer=recorder,
                              literal_binds=True, transaction_per_migration=True)
        migration_context = environment.get_context()
        transactional = migration_context.impl.transactional_ddl
        with Operations.context(migration_context) as operations:
            recorder.install(operations)
            for script in scripts:
                rehearsal = Rehearsal(script, database)
                rehearsals.append(rehearsal)
                recorder.current = rehearsal
                if transactional and recorder.renders:
                    rehearsal.statements.append(Statement("BEGIN;", None))
                upgrade = script.module.upgrade
                try:
                    upgrade() if database is None else upgrade(database)
                except Exception as error:
                    rehearsal.error = first_line(error)
                    rehearsal.error_line = line_of_failure(error, rehearsal.path)
                if transactional and recorder.renders:
                    rehearsal.statements.append(Statement("COMMIT;", None))
            recorder.current = None
    return rehearsals


@contextmanager
def quiet_alembic():
    """Without alembic's INFO lines (the context it makes, "Generating
    static SQL"): they are not what a lint run reports."""
    logger = logging.getLogger("alembic.runtime.migration")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def line_of_failure(error, path):
    """The last line of `path` in the traceback of `error`."""
    line, trace = None, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == path:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
