"""The online operations on SQLite: the plain operations. SQLite has one
writer at a time, and altering a table copies it (batch mode): there is no
online form to choose, so a revision written with the online operations
(say, on PostgreSQL) still runs on a developer's SQLite database."""
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
