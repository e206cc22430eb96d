"""The online operations on SQLite: the plain operations. SQLite has one
writer at a time, and altering a table copies it (batch mode): there is no
online form to choose, so a revision written with the online operations
(say, on PostgreSQL) still runs on a developer's SQLite database."""
import sqlalchemy as sa
from alembic.operations import ops


def create_index(operations, operation):
    index = ops.CreateIndexOp(operation.index_name, operation.table_name, operation.columns,
                              schema=operation.schema, unique=operation.unique, **operation.kw)
    operations.impl.create_index(index.to_index(operations.migration_context))


def drop_index(operations, operation):
    operations.impl.drop_index(ops.DropIndexOp(
        operation.index_name, operation.table_name, schema=operation.schema).to_index(
            operations.migration_context))


def create_unique(operations, operation):
    with operations.batch_alter_table(operation.table_name, schema=operation.schema) as batch:
        batch.create_unique_constraint(operation.constraint_name, operation.columns)


def create_foreign_key(operations, operation):
    with operations.batch_alter_table(operation.source_table,
                                      schema=operation.source_schema) as batch:
        batch.create_foreign_key(operation.constraint_name, operation.referent_table,
                                 operation.local_cols, operation.remote_cols,
                                 onupdate=operation.onupdate, ondelete=operation.ondelete,
                                 referent_schema=operation.referent_schema)


def create_check(operations, operation):
    with operations.batch_alter_table(operation.table_name, schema=operation.schema) as batch:
        batch.create_check_constraint(operation.constraint_name, operation.condition)


def set_not_null(operations, operation):
    with operations.batch_alter_table(operation.table_name, schema=operation.schema) as batch:
        batch.alter_column(operation.column_name, nullable=False,
                           existing_type=operation.existing_type,
                           existing_server_default=operation.existing_server_default,
                           existing_comment=operation.existing_comment)


def expand_column(operations, operation):
    """The plain change (or, undone, the plain change back); MariaDB/MySQL
    runs it too, where the column's other attributes are read first so
    that MODIFY/CHANGE keeps them."""
    forward = not operation.undo
    name = operation.column_name if forward else operation.new_name or operation.column_name
    with operations.batch_alter_table(operation.table_name, schema=operation.schema) as batch:
        batch.alter_column(
            name, type_=operation.type_ if forward else operation.existing_type,
            new_column_name=operation.new_name if forward else
            operation.column_name if operation.new_name else None,
            **_existing(operations, operation.table_name, name, operation.schema,
                        operation.existing_type if forward else operation.type_))


def contract_column(operations, operation):
    """Nothing: expand_column made the plain change already."""


def _existing(operations, table, column, schema, existing_type):
    """alter_column's existing_* arguments for `column`, read from the
    database (MariaDB/MySQL rewrites the whole column definition; SQLite's
    batch reads the table itself); only the type in a --sql script."""
    known = {"existing_type": existing_type}
    if operations.migration_context.as_sql:
        return known
    [reflected] = [c for c in sa.inspect(operations.get_bind()).get_columns(table, schema)
                   if c["name"] == column]
    default = reflected.get("default")
    known.update(existing_nullable=reflected["nullable"],
                 existing_server_default=None if default is None else sa.text(default),
                 existing_comment=reflected.get("comment"))
    if reflected.get("autoincrement") is True:
        known["autoincrement"] = True
    if known["existing_type"] is None:
        known["existing_type"] = reflected["type"]
    return known
