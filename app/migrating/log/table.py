"""The migration_log table, in every database the project migrates.

One row per revision step. `direction` says what happened to the revision:

    upgrade, downgrade   its upgrade() or downgrade() ran
    stamp, unstamp       `db stamp` marked it applied, or not applied, without
                         running it
    baseline             it was applied before the database had a log (the
                         first command that met the database recorded it)
    accept               `db validate --accept` recorded its file's new
                         checksum after a reviewed edit (or, without a
                         checksum, that its file is gone for good)

A row with started_at and no finished_at is a step that did not finish
(unfinished.py). Times are UTC. A revision that commits part by part (an
online one, online/resume.py) keeps in its row how many of its operations
are done (steps_done) and how far a backfill has got (resume_key), so that
the next run goes on from there; a log made before those columns existed
gets them on the next command that writes it.
"""
import sqlalchemy as sa

from ..database import committed
from .checksum import checksum_of_file

TABLE_NAME = "migration_log"
# The table this one replaces: revisions that started and did not finish.
OLD_TABLE_NAME = "unfinished_migrations"
CARRIED_OVER = "carried over from " + OLD_TABLE_NAME
MESSAGE_LENGTH = 255
ERROR_LENGTH = 1000

class Timestamp(sa.types.TypeDecorator):
    """DATETIME with microseconds on MySQL too, which keeps whole seconds
    unless told otherwise. (Its dialect is imported only there: `db current`
    on the other databases should not pay for it.)"""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "mysql":
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())


table = sa.Table(
    TABLE_NAME,
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("revision", sa.String(32), nullable=False),
    sa.Column("message", sa.String(MESSAGE_LENGTH)),
    sa.Column("direction", sa.String(9), nullable=False),
    sa.Column("checksum", sa.String(64)),
    sa.Column("started_at", Timestamp(), nullable=False),
    sa.Column("finished_at", Timestamp()),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("success", sa.Boolean),
    sa.Column("database_user", sa.String(128)),
    sa.Column("os_user", sa.String(128)),
    sa.Column("host", sa.String(255)),
    sa.Column("error", sa.String(ERROR_LENGTH)),
    sa.Column("steps_done", sa.Integer),
    sa.Column("resume_key", sa.String(64)),
)
# The columns a log made by an earlier release lacks.
ADDED_COLUMNS = ("steps_done", "resume_key")
old_table = sa.Table(
    OLD_TABLE_NAME,
    sa.MetaData(),
    sa.Column("revision", sa.String(32), primary_key=True),
    sa.Column("direction", sa.String(9), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
)


def is_bookkeeping_table(name):
    """True for the log (and the table it replaces); autogenerate and `db
    check` leave them alone, as they leave alembic_version."""
    return name in (TABLE_NAME, OLD_TABLE_NAME)


def exists(connection):
    with committed(connection):
        return sa.inspect(connection).has_table(TABLE_NAME)


def prepare(connection, script, heads, who):
    """Make sure the log exists: create it (committed at once) and, when the
    database had none, record a baseline row for each revision it is at
    (`heads` and their ancestors) and carry over the marks of
    unfinished_migrations, which is dropped; add the columns a log of an
    earlier release lacks. `who`: the Who running this."""
    if exists(connection):
        add_missing_columns(connection)
        return
    with committed(connection):
        table.create(connection)
        rows = [dict(who.row(), revision=revision.revision, message=message_of(revision),
                     direction="baseline", checksum=checksum_of_file(revision.path),
                     started_at=who.now(), finished_at=who.now(), duration_ms=0,
                     success=True)
                for revision in reversed(list(applied_revisions(script, heads)))]
        rows += carried_over(connection, script, who)
        if rows:
            # One executemany needs the same columns in every row.
            columns = [column.name for column in table.columns if column.name != "id"]
            connection.execute(table.insert(), [{name: row.get(name) for name in columns}
                                                for row in rows])
        if sa.inspect(connection).has_table(OLD_TABLE_NAME):
            old_table.drop(connection)


def add_missing_columns(connection):
    """ALTER TABLE ... ADD COLUMN for each column of ADDED_COLUMNS the
    database's log lacks (nullable: instant on every backend)."""
    with committed(connection):
        present = {column["name"] for column in sa.inspect(connection).get_columns(TABLE_NAME)}
        preparer = connection.dialect.identifier_preparer
        for name in ADDED_COLUMNS:
            if name not in present:
                connection.exec_driver_sql("ALTER TABLE {} ADD COLUMN {} {}".format(
                    preparer.quote(TABLE_NAME), preparer.quote(name),
                    table.c[name].type.compile(dialect=connection.dialect)))


def carried_over(connection, script, who):
    """Rows for the marks of unfinished_migrations: steps that never finished."""
    if not sa.inspect(connection).has_table(OLD_TABLE_NAME):
        return []
    marks = connection.execute(sa.select(old_table).order_by(old_table.c.started_at))
    revisions = {revision.revision: revision for revision in script.walk_revisions()}
    return [dict(who.row(), revision=mark.revision, direction=mark.direction,
                 message=message_of(revisions[mark.revision]) if mark.revision in revisions
                 else None, started_at=mark.started_at, error=CARRIED_OVER)
            for mark in marks]


def applied_revisions(script, heads):
    """The revisions a database at `heads` has applied, newest first."""
    if not heads:
        return []
    return script.iterate_revisions(tuple(heads), "base")


def message_of(revision):
    """The revision's message (its docstring's first line), cut to fit."""
    doc = (revision.doc or "").strip()
    return doc[:MESSAGE_LENGTH] or None


def present_columns(connection):
    """The columns of the log that the database's table has: one made by an
    earlier release lacks ADDED_COLUMNS until a command that writes the log
    adds them, and the commands that only read it (db current, db log) read
    it as it is."""
    with committed(connection):
        names = {column["name"] for column in sa.inspect(connection).get_columns(TABLE_NAME)}
    return [column for column in table.columns if column.name in names]


def read(connection):
    """Every row, oldest first (without the columns the table lacks)."""
    columns = present_columns(connection)
    with committed(connection):
        return connection.execute(sa.select(*columns).order_by(table.c.id)).fetchall()
