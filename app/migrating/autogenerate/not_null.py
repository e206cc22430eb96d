"""A NOT NULL column without a server_default, added to a table that already
exists: Alembic writes add_column(nullable=False), which fails on PostgreSQL
and SQLite when the table has rows and, on MariaDB/MySQL, fills them with
'' or 0 without a word.

With a value for the rows that exist (questioner.py asks for one, once),
the revision adds the column nullable, fills it, then sets NOT NULL; its
downgrade drops the column. Without a value, no revision is written.

An existing column made NOT NULL: rows that hold NULL in it would make the
upgrade fail. With a value (asked once at a terminal), the revision first
sets it where the column is NULL; without one, a warning says so.

The same goes for the downgrade of a revision that drops such a column: it
adds the column back, and its rows need a value then. Without one, the
downgrade adds it back nullable (its values are gone either way) and a
warning says so.
"""
import datetime

import sqlalchemy as sa
from alembic.operations import ops

from .questioner import NOW


def needs_value(operation):
    """True for an add_column the rows that exist cannot satisfy."""
    if not isinstance(operation, ops.AddColumnOp):
        return False
    column = operation.column
    return not column.nullable and column.server_default is None and not column.primary_key


def table_operations(container, test):
    """[(ModifyTableOps, operation)] of the operations in `container`'s table
    groups for which test(operation) is true."""
    return [(group, operation) for group in container.ops
            if isinstance(group, ops.ModifyTableOps)
            for operation in group.ops if test(operation)]


def fill_new_not_null_columns(container, questioner, dialect, downgrade=False):
    """Rewrite each table's new NOT NULL columns in `container` (the
    upgrade's operations, or the downgrade's) into add nullable, fill, set
    NOT NULL, with the values `questioner` gives."""
    found = table_operations(container, needs_value)
    if not found:
        return
    values = questioner.one_off_value(
        [(group.table_name, operation.column) for group, operation in found], downgrade)
    filled = {}
    for (group, operation), value in zip(found, values):
        filled.setdefault(id(group), []).append((operation, value))
    rewritten = []
    for group in container.ops:
        rewritten.extend(filling(group, filled[id(group)], dialect)
                         if id(group) in filled else [group])
    container.ops[:] = rewritten


def made_not_null(operation):
    """True for an alter_column that makes a column of the database NOT NULL."""
    return isinstance(operation, ops.AlterColumnOp) and operation.modify_nullable is False \
        and operation.existing_nullable is not False


def fill_nulls_of_columns_made_not_null(upgrade_ops, questioner, dialect):
    """Before each table's group that makes columns NOT NULL, an UPDATE per
    column setting the value `questioner` gives where it is NULL."""
    found = table_operations(upgrade_ops, made_not_null)
    if not found:
        return
    columns = [(group, sa.column(operation.column_name, operation.existing_type))
               for group, operation in found]
    values = questioner.value_for_nulls(
        [(group.table_name, column) for group, column in columns])
    updates = {}
    for (group, column), value in zip(columns, values):
        if value is not None:
            updates.setdefault(id(group), []).append(
                ops.ExecuteSQLOp(update_sql(group, column, value, dialect, only_nulls=True)))
    upgrade_ops.ops[:] = [operation for group in upgrade_ops.ops
                          for operation in updates.get(id(group), []) + [group]]


def filling(group, columns, dialect):
    """The table's operations with `columns` [(AddColumnOp, value)] added
    nullable, then an UPDATE per column, then one group setting NOT NULL
    (a value of None: left nullable)."""
    nullable = {id(operation): nullable_copy(operation) for operation, _ in columns}
    added = ops.ModifyTableOps(group.table_name, [nullable.get(id(o), o) for o in group.ops],
                               schema=group.schema)
    filled = [(operation, value) for operation, value in columns if value is not None]
    updates = [ops.ExecuteSQLOp(update_sql(group, operation.column, value, dialect))
               for operation, value in filled]
    not_null = ops.ModifyTableOps(group.table_name, [
        ops.AlterColumnOp(group.table_name, operation.column.name, schema=group.schema,
                          existing_type=operation.column.type, existing_nullable=True,
                          modify_nullable=False)
        for operation, _ in filled], schema=group.schema)
    return [added] + updates + ([not_null] if filled else [])


def nullable_copy(operation):
    column = operation.column._copy()
    column.nullable = True
    return ops.AddColumnOp(operation.table_name, column, schema=operation.schema)


def update_sql(group, column, value, dialect, only_nulls=False):
    """UPDATE <table> SET <column> = <value> [WHERE <column> IS NULL], as
    SQL text for `dialect` (alembic writes op.execute() only with text)."""
    if value == NOW:
        value, kind = sa.func.current_timestamp(), column.type
    elif isinstance(value, datetime.datetime):
        # Written as text, which every backend reads as a timestamp or date.
        value, kind = value.isoformat(sep=" "), sa.String()
    elif isinstance(value, datetime.date):
        value, kind = value.isoformat(), sa.String()
    else:
        kind = column.type
    table = sa.table(group.table_name, sa.column(column.name, kind), schema=group.schema)
    statement = table.update().values({column.name: value})
    if only_nulls:
        statement = statement.where(table.c[column.name].is_(None))
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
