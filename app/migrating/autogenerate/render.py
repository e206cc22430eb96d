"""How the operations the rewrites make are written into the revision file,
on every alembic the stacks pin: alembic 1.14 (the last for Python 3.8)
writes no new_column_name for alter_column and no create_check_constraint,
and no alembic writes rename_table from autogenerate.
"""
from alembic.autogenerate import renderers
from alembic.operations import ops
from sqlalchemy.sql.elements import conv


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


for operation_class, render in ((RenameColumnOp, render_rename_column),
                                (CreateCheckOp, render_create_check),
                                (ops.RenameTableOp, render_rename_table)):
    try:
        renderers.dispatch_for(operation_class)(render)
    except ValueError:  # an alembic that renders it itself
        pass
