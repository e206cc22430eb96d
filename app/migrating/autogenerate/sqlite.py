"""SQLite: an Enum (or a Boolean with create_constraint) is a VARCHAR with a
CHECK constraint, and every change to a table is a copy of it (batch mode).
What Alembic's autogenerate misses there:

- it compares the VARCHAR and never the CHECK, so a value added to or
  removed from an Enum goes unseen and the database goes on rejecting the
  new value: here the CHECK's values are read from the database and
  compared with the model's; a difference becomes alter_column from the old
  Enum to the new one, which batch mode writes as a copy of the table with
  the new CHECK (and the downgrade as a copy with the old one);
- a column added with such a type gets two CHECKs (one named by the type,
  one by the naming convention): here it is added without one, then given
  the named one by alter_column;
- the copy that drops a column keeps the CHECKs that name it, which then
  reject every row: here they are dropped first.
"""
import re

import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.sql.elements import conv

from .compare import register_type_comparison

QUOTED = re.compile(r"'((?:[^']|'')*)'")


def enable():
    """Register the Enum comparison with Alembic's autogenerate (once)."""
    register_type_comparison(compare_enum_check)


def compare_enum_check(autogen_context, alter_column_op, schema, table_name, column_name,
                       conn_col, metadata_col):
    """Alembic's column comparison: True when the CHECK of an Enum differs."""
    new = metadata_col.type
    if autogen_context.dialect.name != "sqlite" or not isinstance(new, sa.Enum) \
            or not new.create_constraint:
        return False
    checks = autogen_context.inspector.get_check_constraints(table_name, schema=schema)
    old_values = values_in_check(checks, column_name)
    if old_values is None or old_values == list(new.enums):
        return False
    alter_column_op.modify_type = new
    alter_column_op.existing_type = sa.Enum(*old_values, name=new.name, create_constraint=True)
    return True


def values_in_check(checks, column_name):
    """The values of the CHECK `column IN (...)` among `checks`, or None."""
    for check in checks:
        match = re.match(r'\s*"?{}"?\s+IN\s*\((.*)\)\s*$'.format(re.escape(column_name)),
                         check.get("sqltext") or "", re.IGNORECASE | re.DOTALL)
        if match:
            return [value.replace("''", "'") for value in QUOTED.findall(match.group(1))]
    return None


def has_check(column):
    return isinstance(column.type, sa.types.SchemaType) \
        and getattr(column.type, "create_constraint", False)


def rewrite_checks(upgrade_ops, downgrade_ops, migration_context):
    """Columns with a CHECK of their type: added with one CHECK, dropped
    after their CHECKs, in both directions."""
    metadata = migration_context.opts["target_metadata"]
    inspector = sa.inspect(migration_context.connection)
    for container in (upgrade_ops, downgrade_ops):
        for group in container.ops:
            if isinstance(group, ops.ModifyTableOps):
                group.ops[:] = [rewritten for operation in group.ops
                                for rewritten in rewrite(group, operation, metadata, inspector)]


def rewrite(group, operation, metadata, inspector):
    if isinstance(operation, ops.AddColumnOp) and has_check(operation.column):
        return add_then_check(operation)
    if isinstance(operation, ops.DropColumnOp):
        return [ops.DropConstraintOp(name, group.table_name, type_="check", schema=group.schema)
                for name in check_names(group, operation, metadata, inspector)] + [operation]
    return [operation]


def add_then_check(operation):
    column = operation.column._copy()
    checked = column.type
    column.type = checked.copy()
    column.type.create_constraint = False
    return [ops.AddColumnOp(operation.table_name, column, schema=operation.schema),
            ops.AlterColumnOp(operation.table_name, column.name, schema=operation.schema,
                              existing_type=column.type, modify_type=checked,
                              existing_nullable=column.nullable,
                              existing_server_default=column.server_default)]


def check_names(group, operation, metadata, inspector):
    """The names of the CHECKs that name the dropped column: in the
    database when the column is there now, else those its model type makes."""
    column = operation.to_column()
    if operation._reverse is not None and column.table is not None \
            and column.table.metadata is metadata:
        # A column of the models (the downgrade of one the upgrade adds).
        if not has_check(column):
            return []
        table = sa.Table(group.table_name, sa.MetaData(naming_convention=dict(
            metadata.naming_convention)), column._copy())
        return [c.name for c in table.constraints
                if isinstance(c, sa.CheckConstraint) and c.name]
    if group.table_name not in inspector.get_table_names(schema=group.schema):
        return []
    pattern = re.compile(r'(?<![\w"]){0}(?![\w"])|"{0}"'.format(re.escape(operation.column_name)))
    return [conv(check["name"]) for check in
            inspector.get_check_constraints(group.table_name, schema=group.schema)
            if check.get("name") and pattern.search(check.get("sqltext") or "")]
