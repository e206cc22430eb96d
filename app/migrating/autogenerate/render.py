"""How the operations the rewrites make are written into the revision file,
on every alembic the stacks pin: alembic 1.14 (the last for Python 3.8)
writes no new_column_name for alter_column and no create_check_constraint,
and no alembic writes rename_table from autogenerate; the online operations
(online/) are this project's own.
"""
from alembic.autogenerate import renderers
from alembic.autogenerate.render import _repr_type
from alembic.operations import ops
from sqlalchemy.sql.elements import conv
from sqlalchemy.sql.functions import Function

from ..online.backfill import BackfillOp
from ..online.operations import (
    ContractColumnOp,
    CreateForeignKeyOnlineOp,
    CreateIndexOnlineOp,
    CreateUniqueOnlineOp,
    DropIndexOnlineOp,
    ExpandColumnOp,
    SetNotNullOnlineOp,
)


class RenameColumnOp(ops.AlterColumnOp):
    """alter_column(..., new_column_name=...)."""


class CreateCheckOp(ops.CreateCheckConstraintOp):
    """create_check_constraint(name, [table,] "condition")."""


def prefix(autogen_context):
    return "batch_op." if autogen_context._has_batch else \
        (autogen_context.opts.get("alembic_module_prefix") or "op.")


def name_of(autogen_context, name):
    if isinstance(name, conv):
        return "{}f({!r})".format(prefix(autogen_context), str(name))
    return repr(str(name))


def render_rename_column(autogen_context, operation):
    text = renderers.dispatch(ops.AlterColumnOp)(autogen_context, operation)
    if "new_column_name=" in text:
        return text
    call = "alter_column({!r},".format(operation.column_name)
    return text.replace(call, "{} new_column_name={!r},".format(
        call, operation.modify_name), 1)


def render_create_check(autogen_context, operation):
    condition = operation.condition
    if not isinstance(condition, str):
        condition = str(condition.compile(dialect=autogen_context.dialect,
                                          compile_kwargs={"literal_binds": True,
                                                          "include_table": False}))
    args = [name_of(autogen_context, operation.constraint_name)]
    if not autogen_context._has_batch:
        args.append(repr(operation.table_name))
    args.append(repr(condition))
    if operation.schema and not autogen_context._has_batch:
        args.append("schema={!r}".format(operation.schema))
    return "{}create_check_constraint({})".format(prefix(autogen_context), ", ".join(args))


def render_rename_table(autogen_context, operation):
    return "{}rename_table({!r}, {!r}{})".format(
        prefix(autogen_context), operation.table_name, operation.new_table_name,
        ", schema={!r}".format(operation.schema) if operation.schema else "")


def render_create_index_online(autogen_context, operation):
    plain = ops.CreateIndexOp(operation.index_name, operation.table_name, operation.columns,
                              schema=operation.schema, unique=operation.unique, **operation.kw)
    return _renamed(renderers.dispatch(ops.CreateIndexOp)(autogen_context, plain),
                    "create_index", "create_index_online")


def render_drop_index_online(autogen_context, operation):
    plain = ops.DropIndexOp(operation.index_name, operation.table_name, schema=operation.schema)
    return _renamed(renderers.dispatch(ops.DropIndexOp)(autogen_context, plain),
                    "drop_index", "drop_index_online")


def render_create_unique_online(autogen_context, operation):
    return "op.create_unique_online({}, {!r}, {!r}{})".format(
        name_of(autogen_context, operation.constraint_name), operation.table_name,
        list(operation.columns), _schema(operation.schema))


def render_create_foreign_key_online(autogen_context, operation):
    options = "".join(", {}={!r}".format(option, getattr(operation, option))
                      for option in ("onupdate", "ondelete", "source_schema", "referent_schema")
                      if getattr(operation, option))
    return "op.create_foreign_key_online({}, {!r}, {!r}, {!r}, {!r}{})".format(
        name_of(autogen_context, operation.constraint_name), operation.source_table,
        operation.referent_table, list(operation.local_cols), list(operation.remote_cols),
        options)


def render_set_not_null_online(autogen_context, operation):
    existing = ""
    if operation.existing_type is not None:
        existing = ", existing_type={}".format(_repr_type(operation.existing_type,
                                                          autogen_context))
    return "op.set_not_null_online({!r}, {!r}{}{})".format(
        operation.table_name, operation.column_name, existing, _schema(operation.schema))


def render_backfill(autogen_context, operation):
    values = ", ".join("{!r}: {}".format(column, _value(operation.values[column]))
                       for column in operation.columns())
    where = ", where={!r}".format(operation.where) if operation.where else ""
    return "op.backfill({!r}, {{{}}}{}{})".format(operation.table_name, values, where,
                                                  _schema(operation.schema))


def render_column_change(autogen_context, operation):
    """op.expand_column(...) or op.contract_column(...), as a revision calls it."""
    arguments = [repr(operation.table_name), repr(operation.column_name)]
    if operation.new_name is not None:
        arguments.append("new_name={!r}".format(operation.new_name))
        if operation.existing_type is not None:
            arguments.append("existing_type=" + _repr_type(operation.existing_type,
                                                           autogen_context))
    else:
        arguments.append("type_=" + _repr_type(operation.type_, autogen_context))
        arguments.append("existing_type=" + _repr_type(operation.existing_type, autogen_context))
    if operation.undo:
        arguments.append("undo=True")
    return "op.{}({}{})".format(operation.name, ", ".join(arguments), _schema(operation.schema))


def _value(value):
    """A backfill's value as Python in the revision: a literal, or
    sa.func.<name>() for a SQL function."""
    if isinstance(value, Function):
        return "sa.func.{}()".format(value.name)
    return repr(value)


def _renamed(text, name, online_name):
    """Alembic's rendering of an operation, calling the online one instead."""
    for module in ("op.", "batch_op."):
        if text.startswith(module + name + "("):
            return "op.{}({}".format(online_name, text[len(module + name) + 1:])
    raise ValueError("unexpected rendering of {}: {}".format(name, text))


def _schema(schema):
    return ", schema={!r}".format(schema) if schema else ""


for operation_class, render in ((CreateIndexOnlineOp, render_create_index_online),
                                (DropIndexOnlineOp, render_drop_index_online),
                                (CreateUniqueOnlineOp, render_create_unique_online),
                                (CreateForeignKeyOnlineOp, render_create_foreign_key_online),
                                (SetNotNullOnlineOp, render_set_not_null_online),
                                (BackfillOp, render_backfill),
                                (ExpandColumnOp, render_column_change),
                                (ContractColumnOp, render_column_change),
                                (RenameColumnOp, render_rename_column),
                                (CreateCheckOp, render_create_check),
                                (ops.RenameTableOp, render_rename_table)):
    try:
        renderers.dispatch_for(operation_class)(render)
    except ValueError:  # an alembic that renders it itself
        pass
