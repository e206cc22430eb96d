"""A NOT NULL column without a server_default, added to a table that already
exists: Alembic writes add_column(nullable=False), which fails on PostgreSQL
and SQLite when the table has rows and, on MariaDB/MySQL, fills them with
'' or 0 without a word.

With a value for the rows that exist (questioner.py asks for one, once),
the revision adds the column with that value as its server default and
then drops the default, on PostgreSQL and MariaDB/MySQL (both store a
constant default in the catalog: no row is rewritten, no write waits, and
rows the running app inserts meanwhile get it too); on SQLite, or with the
online forms switched off (online.py), it adds the column nullable, fills
it with one UPDATE, then sets NOT NULL. Its downgrade drops the column.
Without a value, no revision is written.

An existing column made NOT NULL: rows that hold NULL in it would make the
upgrade fail. With a value (asked once at a terminal), the revision first
sets it where the column is NULL: op.backfill, in batches each committed on
its own, on PostgreSQL and MariaDB/MySQL; one UPDATE on SQLite. Without
one, a warning says so.

The same goes for the downgrade of a revision that drops such a column: it
adds the column back, and its rows need a value then. Without one, the
downgrade adds it back nullable (its values are gone either way) and a
warning says so.
"""
import datetime

import sqlalchemy as sa
from alembic.operations import ops

from ..online.backfill import BackfillOp
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


def fill_new_not_null_columns(container, questioner, dialect, downgrade=False, online=False):
    """Rewrite each table's new NOT NULL columns in `container` (the
    upgrade's operations, or the downgrade's) so that the rows there are get
    the values `questioner` gives: through a server default dropped after
    (`online`), or added nullable, filled, set NOT NULL."""
    found = table_operations(container, needs_value)
    if not found:
        return
    values = questioner.one_off_value(
        [(group.table_name, operation.column) for group, operation in found], downgrade)
    filled = {}
    for (group, operation), value in zip(found, values):
        filled.setdefault(id(group), []).append((operation, value))
    fill = filling_by_default if online else filling
    rewritten = []
    for group in container.ops:
        rewritten.extend(fill(group, filled[id(group)], dialect)
                         if id(group) in filled else [group])
    container.ops[:] = rewritten


def made_not_null(operation):
    """True for an alter_column that makes a column of the database NOT NULL."""
    return isinstance(operation, ops.AlterColumnOp) and operation.modify_nullable is False \
        and operation.existing_nullable is not False


def fill_nulls_of_columns_made_not_null(upgrade_ops, questioner, dialect, online=False):
    """Before each table's group that makes columns NOT NULL, an UPDATE per
    column setting the value `questioner` gives where it is NULL (a backfill
    in batches, when `online`)."""
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
                backfill_nulls(group, column, value, dialect) if online else
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


def filling_by_default(group, columns, dialect):
    """The table's operations with `columns` [(AddColumnOp, value)] added
    with the value as their server default, then one group dropping those
    defaults (a value of None: added nullable)."""
    added, defaults = [], []
    values = {id(operation): value for operation, value in columns}
    for operation in group.ops:
        value = values.get(id(operation))
        if id(operation) not in values:
            added.append(operation)
        elif value is None:
            added.append(nullable_copy(operation))
        else:
            column = operation.column._copy()
            sa.DefaultClause(sa.text(literal_sql(column, value, dialect)))._set_parent(column)
            added.append(ops.AddColumnOp(operation.table_name, column, schema=operation.schema))
            defaults.append(ops.AlterColumnOp(
                group.table_name, column.name, schema=group.schema, existing_type=column.type,
                existing_nullable=False, existing_server_default=column.server_default,
                modify_server_default=None))
    result = [ops.ModifyTableOps(group.table_name, added, schema=group.schema)]
    if defaults:
        result.append(ops.ModifyTableOps(group.table_name, defaults, schema=group.schema))
    return result


def backfill_nulls(group, column, value, dialect):
    """op.backfill of `value` into the rows where `column` is NULL."""
    where = str(sa.column(column.name).is_(None).compile(dialect=dialect))
    return BackfillOp(group.table_name, {column.name: backfill_value(value)}, where=where,
                      schema=group.schema)


def backfill_value(value):
    """The value as op.backfill takes it: a literal (dates as ISO text,
    which every backend reads as a date), or the SQL function of `now`."""
    if value == NOW:
        return sa.func.current_timestamp()
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def literal_sql(column, value, dialect):
    """`value` as a SQL literal of `column`'s type for `dialect`
    (CURRENT_TIMESTAMP for `now`)."""
    value = backfill_value(value)
    if isinstance(value, sa.sql.functions.Function):
        return str(value.compile(dialect=dialect))
    kind = sa.String() if isinstance(value, str) and not isinstance(column.type, sa.String) \
        else column.type
    return str(sa.literal(value, kind).compile(dialect=dialect,
                                                compile_kwargs={"literal_binds": True}))


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
