"""The online operations on MariaDB/MySQL. InnoDB builds an index in place
while writes go on; what copies the table (and holds its writes until the
copy ends) is a foreign key added while foreign_key_checks is on. So:

- every ALTER here says ALGORITHM=INPLACE, LOCK=NONE: where the server
  cannot do it without blocking writes, it refuses the statement instead
  of quietly copying the table;
- a foreign key is added with foreign_key_checks off, which lets InnoDB add
  it in place, and then the rows are checked by a query: orphans make the
  step fail with one line naming them (the key stays, and guards every new
  write; fix the rows and run again);
- a CHECK constraint is checked by the server against every row by copying
  the table, and no clause avoids that; it is added as it is (db lint says
  so).

Each step first asks information_schema whether its work is done, so an
interrupted run is finished by running it again. Each runs in an
autocommit block: MariaDB commits each DDL statement anyway, and the block
marks where the revision's committed part ends (resume.py).

Every other ALTER TABLE of an online upgrade or downgrade (op.alter_column,
a batch block, op.execute) goes through alembic's MySQL implementation,
which this module replaces with one that tries it in place first, and
copies the table online when it must be copied (table_copy.py).
"""
import sqlalchemy as sa
from alembic.ddl.mysql import MySQLImpl
from alembic.operations import ops
from alembic.operations.schemaobj import SchemaObjects
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import AddConstraint

from . import resume, table_copy
from .failures import RERUN, StepRefused, refusal, refused_by_rows
from .statements import compiled, execute, qualified, quote

ONLINE = "ALGORITHM=INPLACE, LOCK=NONE"
# The same, as CREATE INDEX takes it (no comma).
ONLINE_INDEX = "ALGORITHM=INPLACE LOCK=NONE"
# How many orphan values the failure names.
SHOWN_ORPHANS = 5

INDEX_EXISTS = sa.text(
    "SELECT 1 FROM information_schema.statistics WHERE table_schema = "
    "COALESCE(:schema, DATABASE()) AND table_name = :table AND index_name = :name LIMIT 1")
CONSTRAINT_EXISTS = sa.text(
    "SELECT 1 FROM information_schema.table_constraints WHERE constraint_schema = "
    "COALESCE(:schema, DATABASE()) AND table_name = :table AND constraint_name = :name "
    "AND constraint_type = :kind")


def create_index(operations, operation):
    """CREATE [UNIQUE] INDEX ... ALGORITHM=INPLACE LOCK=NONE, unless it exists."""
    with operations.get_context().autocommit_block():
        if _index_exists(operations, operation.index_name, operation.table_name,
                         operation.schema):
            return
        index = ops.CreateIndexOp(operation.index_name, operation.table_name,
                                  operation.columns, schema=operation.schema,
                                  unique=operation.unique, **operation.kw)
        statement = compiled(operations, sa.schema.CreateIndex(
            index.to_index(operations.migration_context)))
        _execute_refusing_duplicates(
            operations, statement + " " + ONLINE_INDEX, operation.unique,
            operation.table_name, operation.columns)


def drop_index(operations, operation):
    """ALTER TABLE ... DROP INDEX ..., ALGORITHM=INPLACE, LOCK=NONE, if it exists."""
    with operations.get_context().autocommit_block():
        if _index_exists(operations, operation.index_name, operation.table_name,
                         operation.schema):
            execute(operations, "ALTER TABLE {} DROP INDEX {}, {}".format(
                qualified(operations, operation.table_name, operation.schema),
                quote(operations, operation.index_name), ONLINE))


def create_unique(operations, operation):
    """ALTER TABLE ... ADD CONSTRAINT ... UNIQUE, ALGORITHM=INPLACE, LOCK=NONE."""
    with operations.get_context().autocommit_block():
        if _index_exists(operations, operation.constraint_name, operation.table_name,
                         operation.schema):
            return
        constraint = SchemaObjects(operations.migration_context).unique_constraint(
            operation.constraint_name, operation.table_name, operation.columns,
            schema=operation.schema)
        _execute_refusing_duplicates(
            operations, "{}, {}".format(compiled(operations, AddConstraint(constraint)), ONLINE),
            True, operation.table_name, operation.columns)


def create_foreign_key(operations, operation):
    """The key added in place with foreign_key_checks off, then the rows
    checked for values the referenced table does not hold."""
    with operations.get_context().autocommit_block():
        if not _constraint_exists(operations, operation.constraint_name,
                                  operation.source_table, operation.source_schema,
                                  "FOREIGN KEY"):
            constraint = SchemaObjects(operations.migration_context).foreign_key_constraint(
                operation.constraint_name, operation.source_table, operation.referent_table,
                operation.local_cols, operation.remote_cols, onupdate=operation.onupdate,
                ondelete=operation.ondelete, source_schema=operation.source_schema,
                referent_schema=operation.referent_schema)
            statement = "{}, {}".format(compiled(operations, AddConstraint(constraint)), ONLINE)
            execute(operations, "SET SESSION foreign_key_checks = 0")
            try:
                execute(operations, statement)
            finally:
                execute(operations, "SET SESSION foreign_key_checks = 1")
        _refuse_orphans(operations, operation)


def create_check(operations, operation):
    """ADD CONSTRAINT ... CHECK: the server copies the table to check it."""
    with operations.get_context().autocommit_block():
        if _constraint_exists(operations, operation.constraint_name, operation.table_name,
                              operation.schema, "CHECK"):
            return
        constraint = SchemaObjects(operations.migration_context).check_constraint(
            operation.constraint_name, operation.table_name, operation.condition,
            schema=operation.schema)
        execute(operations, compiled(operations, AddConstraint(constraint)))


def set_not_null(operations, operation):
    """MODIFY ... NOT NULL: in place, writes go on while InnoDB rebuilds."""
    with operations.get_context().autocommit_block():
        operations.impl.alter_column(
            operation.table_name, operation.column_name, nullable=False,
            schema=operation.schema, existing_type=operation.existing_type,
            existing_server_default=operation.existing_server_default,
            existing_comment=operation.existing_comment)


def _refuse_orphans(operations, operation):
    """StepRefused naming the first orphan values, if any row of the source
    table points at no row of the referenced one."""
    if operations.migration_context.as_sql:
        return
    source = sa.table(operation.source_table, *map(sa.column, operation.local_cols),
                      schema=operation.source_schema)
    referent = sa.table(operation.referent_table, *map(sa.column, operation.remote_cols),
                        schema=operation.referent_schema).alias("referent")
    joined = source.outerjoin(referent, sa.and_(*[
        source.c[local] == referent.c[remote]
        for local, remote in zip(operation.local_cols, operation.remote_cols)]))
    query = (sa.select(*[source.c[local] for local in operation.local_cols])
             .select_from(joined)
             .where(sa.and_(*[source.c[local].isnot(None) for local in operation.local_cols]))
             .where(referent.c[operation.remote_cols[0]].is_(None))
             .distinct().limit(SHOWN_ORPHANS + 1))
    orphans = [", ".join(map(str, row)) for row in operations.get_bind().execute(query)]
    if orphans:
        raise StepRefused(
            "{}.{} holds values that {}.{} does not: {}{}; the foreign key {} is in place "
            "and refuses new ones: fix or delete those rows, {}".format(
                operation.source_table, ", ".join(operation.local_cols),
                operation.referent_table, ", ".join(operation.remote_cols),
                ", ".join(orphans[:SHOWN_ORPHANS]),
                " and more" if len(orphans) > SHOWN_ORPHANS else "",
                operation.constraint_name, RERUN))


def _execute_refusing_duplicates(operations, statement, unique, table, columns):
    try:
        execute(operations, statement)
    except DBAPIError as error:
        if unique and refused_by_rows(error):
            raise refusal("{}.{} holds duplicate values".format(table, ", ".join(columns)),
                          error) from error
        raise


def _index_exists(operations, name, table, schema):
    if operations.migration_context.as_sql:
        return False
    return operations.get_bind().execute(
        INDEX_EXISTS, {"name": name, "table": table, "schema": schema}).first() is not None


def _constraint_exists(operations, name, table, schema, kind):
    if operations.migration_context.as_sql:
        return False
    return operations.get_bind().execute(
        CONSTRAINT_EXISTS,
        {"name": name, "table": table, "schema": schema, "kind": kind}).first() is not None


class InPlaceFirstImpl(MySQLImpl):
    """Alembic's MariaDB/MySQL implementation (registered in its place, as
    alembic picks one by __dialect__), with each ALTER TABLE that a
    revision runs during an online upgrade or downgrade handed to
    table_copy.alter. --sql scripts, and revisions that run inside a
    transaction they do not own, get the statements as written."""

    __dialect__ = "mysql"

    def _exec(self, construct, execution_options=None, *args, **kwargs):
        step = resume.current()
        statement = None
        if step is not None and step.context.impl is self and not self.as_sql \
                and not any(args) and not any(kwargs.values()):
            sql = table_copy.sql_of(construct, self.dialect)
            statement = sql and table_copy.AlterTable.parse(sql)
        if not statement:
            return super()._exec(construct, execution_options, *args, **kwargs)
        return table_copy.alter(self, step.context, statement)

    def execute_as_is(self, construct, params=None):
        """Run `construct` (with `params`) as alembic would, not through
        table_copy."""
        return super()._exec(construct, None, None, params or {})
