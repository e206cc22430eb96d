"""The online operations a revision calls, as `op.<name>(...)`: each one the
online form of an Alembic operation, with its own downgrade (reverse()) and
its own rerun story. How each runs is per dialect (postgresql.py, mysql.py,
sqlite.py); this module only says what each one is.

    op.create_index_online(name, table, columns, unique=False, **kw)
    op.drop_index_online(name, table)
    op.create_unique_online(name, table, columns)
    op.create_foreign_key_online(name, source, referent, local_cols, remote_cols, ...)
    op.create_check_online(name, table, condition)
    op.set_not_null_online(table, column, existing_type=...)
    op.backfill(table, values, where=None, ...)              (backfill.py)
    op.expand_column(table, column, type_=..., existing_type=...) or new_name=...
    op.contract_column(table, column, type_=..., existing_type=...) or new_name=...
                                                 (expand_contract.py)

They are registered with Alembic when this package is imported, which the
migration env does before any revision runs (as alembic-postgresql-enum's
operations are).
"""
from alembic.operations import Operations, ops


@Operations.register_operation("create_index_online")
class CreateIndexOnlineOp(ops.MigrateOperation):
    """An index built without blocking writes: CREATE INDEX CONCURRENTLY on
    PostgreSQL, ALGORITHM=INPLACE LOCK=NONE on MariaDB/MySQL."""

    def __init__(self, index_name, table_name, columns, unique=False, schema=None, **kw):
        self.index_name = index_name
        self.table_name = table_name
        self.columns = list(columns)
        self.unique = bool(unique)
        self.schema = schema
        self.kw = kw

    @classmethod
    def create_index_online(cls, operations, index_name, table_name, columns, unique=False,
                            schema=None, **kw):
        """Build an index without blocking the table's writes; rerun after an
        interruption, it drops the invalid index left behind and builds it
        again."""
        return operations.invoke(cls(index_name, table_name, columns, unique, schema, **kw))

    @classmethod
    def from_op(cls, operation):
        """The online form of an alembic CreateIndexOp."""
        return cls(operation.index_name, operation.table_name, operation.columns,
                   operation.unique, operation.schema, **operation.kw)

    def to_index(self, migration_context=None):
        return ops.CreateIndexOp(self.index_name, self.table_name, self.columns,
                                 schema=self.schema, unique=self.unique,
                                 **self.kw).to_index(migration_context)

    def reverse(self):
        return DropIndexOnlineOp(self.index_name, self.table_name, self.schema, _reverse=self)


@Operations.register_operation("drop_index_online")
class DropIndexOnlineOp(ops.MigrateOperation):
    """An index dropped without blocking the table: DROP INDEX CONCURRENTLY
    on PostgreSQL, LOCK=NONE on MariaDB/MySQL; nothing when it is gone."""

    def __init__(self, index_name, table_name, schema=None, _reverse=None):
        self.index_name = index_name
        self.table_name = table_name
        self.schema = schema
        self._reverse = _reverse

    @classmethod
    def drop_index_online(cls, operations, index_name, table_name, schema=None):
        """Drop an index without blocking the table's reads and writes."""
        return operations.invoke(cls(index_name, table_name, schema))

    @classmethod
    def from_op(cls, operation):
        """The online form of an alembic DropIndexOp."""
        before = operation._reverse
        return cls(operation.index_name, operation.table_name, operation.schema,
                   _reverse=CreateIndexOnlineOp.from_op(before) if before else None)

    def reverse(self):
        if self._reverse is None:
            raise ValueError("the index's columns are not known; cannot reverse")
        return self._reverse


@Operations.register_operation("create_unique_online")
class CreateUniqueOnlineOp(ops.MigrateOperation):
    """A unique constraint added to a table with rows: on PostgreSQL its
    index built CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX."""

    def __init__(self, constraint_name, table_name, columns, schema=None):
        self.constraint_name = constraint_name
        self.table_name = table_name
        self.columns = list(columns)
        self.schema = schema

    @classmethod
    def create_unique_online(cls, operations, constraint_name, table_name, columns,
                             schema=None):
        """Add a unique constraint without blocking the table's writes while
        its index is built."""
        return operations.invoke(cls(constraint_name, table_name, columns, schema))

    @classmethod
    def from_op(cls, operation, table_name=None):
        return cls(operation.constraint_name, table_name or operation.table_name,
                   operation.columns, operation.schema)

    def reverse(self):
        return ops.DropConstraintOp(self.constraint_name, self.table_name, type_="unique",
                                    schema=self.schema)


@Operations.register_operation("create_foreign_key_online")
class CreateForeignKeyOnlineOp(ops.MigrateOperation):
    """A foreign key added to a table with rows: NOT VALID, then VALIDATE
    CONSTRAINT on PostgreSQL; on MariaDB/MySQL without the table copy, then
    the rows checked by a query."""

    def __init__(self, constraint_name, source_table, referent_table, local_cols,
                 remote_cols, onupdate=None, ondelete=None, source_schema=None,
                 referent_schema=None):
        self.constraint_name = constraint_name
        self.source_table = source_table
        self.referent_table = referent_table
        self.local_cols = list(local_cols)
        self.remote_cols = list(remote_cols)
        self.onupdate = onupdate
        self.ondelete = ondelete
        self.source_schema = source_schema
        self.referent_schema = referent_schema

    @property
    def table_name(self):
        return self.source_table

    @classmethod
    def create_foreign_key_online(cls, operations, constraint_name, source_table,
                                  referent_table, local_cols, remote_cols, onupdate=None,
                                  ondelete=None, source_schema=None, referent_schema=None):
        """Add a foreign key without holding the tables' writes while every
        row is checked."""
        return operations.invoke(cls(constraint_name, source_table, referent_table,
                                     local_cols, remote_cols, onupdate, ondelete,
                                     source_schema, referent_schema))

    @classmethod
    def from_op(cls, operation, source_table=None):
        return cls(operation.constraint_name, source_table or operation.source_table,
                   operation.referent_table, operation.local_cols, operation.remote_cols,
                   operation.kw.get("onupdate"), operation.kw.get("ondelete"),
                   operation.kw.get("source_schema"), operation.kw.get("referent_schema"))

    def reverse(self):
        return ops.DropConstraintOp(self.constraint_name, self.source_table,
                                    type_="foreignkey", schema=self.source_schema)


@Operations.register_operation("create_check_online")
class CreateCheckOnlineOp(ops.MigrateOperation):
    """A CHECK constraint added to a table with rows: NOT VALID, then
    VALIDATE CONSTRAINT on PostgreSQL."""

    def __init__(self, constraint_name, table_name, condition, schema=None):
        self.constraint_name = constraint_name
        self.table_name = table_name
        self.condition = condition
        self.schema = schema

    @classmethod
    def create_check_online(cls, operations, constraint_name, table_name, condition,
                            schema=None):
        """Add a CHECK constraint without holding the table's writes while
        every row is checked."""
        return operations.invoke(cls(constraint_name, table_name, condition, schema))

    def reverse(self):
        return ops.DropConstraintOp(self.constraint_name, self.table_name, type_="check",
                                    schema=self.schema)


@Operations.register_operation("set_not_null_online")
class SetNotNullOnlineOp(ops.MigrateOperation):
    """An existing column made NOT NULL without scanning the table under an
    exclusive lock: on PostgreSQL 12+, CHECK (column IS NOT NULL) NOT VALID,
    VALIDATE, SET NOT NULL (which trusts the validated CHECK), then the
    CHECK dropped."""

    def __init__(self, table_name, column_name, existing_type=None,
                 existing_server_default=None, existing_comment=None, schema=None):
        self.table_name = table_name
        self.column_name = column_name
        self.existing_type = existing_type
        self.existing_server_default = existing_server_default
        self.existing_comment = existing_comment
        self.schema = schema

    @classmethod
    def set_not_null_online(cls, operations, table_name, column_name, existing_type=None,
                            existing_server_default=None, existing_comment=None,
                            schema=None):
        """Make an existing column NOT NULL without blocking the table's
        writes while its rows are checked."""
        return operations.invoke(cls(table_name, column_name, existing_type,
                                     existing_server_default, existing_comment, schema))

    @classmethod
    def from_op(cls, operation):
        """The NOT NULL part of an alembic AlterColumnOp (of the column's new
        name, when it renames it too)."""
        return cls(operation.table_name, operation.modify_name or operation.column_name,
                   operation.modify_type or operation.existing_type,
                   operation.existing_server_default or None,
                   operation.existing_comment, operation.schema)

    def reverse(self):
        return ops.AlterColumnOp(self.table_name, self.column_name, schema=self.schema,
                                 existing_type=self.existing_type,
                                 existing_server_default=self.existing_server_default,
                                 existing_comment=self.existing_comment,
                                 existing_nullable=False, modify_nullable=True)


ONLINE_OPERATIONS = (CreateIndexOnlineOp, DropIndexOnlineOp, CreateUniqueOnlineOp,
                     CreateForeignKeyOnlineOp, CreateCheckOnlineOp, SetNotNullOnlineOp)



class ColumnChangeOp(ops.MigrateOperation):
    """A change of a column's type (`type_`, with `existing_type`, the type
    to go back to) or of its name (`new_name`), made in two halves around
    the deploy: expand_column before it, contract_column after it
    (expand_contract.py says how). `undo`: the half's downgrade."""

    name = None  # as a revision calls it

    def __init__(self, table_name, column_name, type_=None, new_name=None, existing_type=None,
                 undo=False, schema=None):
        if (type_ is None) == (new_name is None):
            raise ValueError("{}.{}: give type_ or new_name to {} (one change at a time)"
                             .format(table_name, column_name, self.name))
        if type_ is not None and existing_type is None:
            raise ValueError("{}.{}: {} of a type needs existing_type, the type to go back "
                             "to".format(table_name, column_name, self.name))
        self.table_name = table_name
        self.column_name = column_name
        self.type_ = type_
        self.new_name = new_name
        self.existing_type = existing_type
        self.undo = bool(undo)
        self.schema = schema

    @classmethod
    def from_op(cls, operation):
        """This half of an alembic AlterColumnOp that changes a type or a name."""
        return cls(operation.table_name, operation.column_name, operation.modify_type,
                   operation.modify_name, operation.existing_type, schema=operation.schema)

    def reverse(self):
        return type(self)(self.table_name, self.column_name, self.type_, self.new_name,
                          self.existing_type, not self.undo, self.schema)


@Operations.register_operation("expand_column")
class ExpandColumnOp(ColumnChangeOp):
    """Before the deploy: on PostgreSQL the new column is added beside the
    old one, kept in step by a trigger and backfilled, its NOT NULL,
    indexes and constraints prepared, so that both releases work. Elsewhere,
    the plain alter_column. Its undo drops what it added (elsewhere, the
    plain change back)."""

    name = "expand_column"

    @classmethod
    def expand_column(cls, operations, table_name, column_name, type_=None, new_name=None,
                      existing_type=None, undo=False, schema=None):
        """Prepare the column's new type or new name beside the old one, both
        kept in step, without blocking the table's writes; rerun after an
        interruption, it goes on from where it stopped."""
        return operations.invoke(cls(table_name, column_name, type_, new_name, existing_type,
                                     undo, schema))


@Operations.register_operation("contract_column")
class ContractColumnOp(ColumnChangeOp):
    """After the deploy, once no running code uses the old column: on
    PostgreSQL, in one short transaction, the old column dropped and the
    new one put in its place (name, NOT NULL, primary key, indexes,
    sequence, the foreign keys pointing at it). Elsewhere nothing: the
    expand made the plain change. Its undo goes back to the expanded state."""

    name = "contract_column"

    @classmethod
    def contract_column(cls, operations, table_name, column_name, type_=None, new_name=None,
                        existing_type=None, undo=False, schema=None):
        """Swap the new column in for the old one, holding the table's lock
        only for a few catalog changes; rerun after an interruption, it
        finishes."""
        return operations.invoke(cls(table_name, column_name, type_, new_name, existing_type,
                                     undo, schema))
