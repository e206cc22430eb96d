"""The online form of each change, written by db migrate on PostgreSQL and
MariaDB/MySQL (online/ runs them), so that the app keeps writing while the
revision runs:

    an index created or dropped        op.create_index_online / drop_index_online
    a unique constraint added          op.create_unique_online
    a foreign key added                op.create_foreign_key_online
    an existing column made NOT NULL   op.set_not_null_online (PostgreSQL; MariaDB
                                       and MySQL make it NOT NULL in place already)

on a table that exists before the revision (a table the revision creates
is empty: its indexes and keys are made as Alembic writes them). The
operations are taken out of their batch block, in the order they had, so
each runs on its own.

SQLite has no online question: one writer at a time, and every ALTER
copies the table; its revisions are written as before. Nor has a multidb
repository, whose databases migrate in transactions committed together.
Set MIGRATE_ONLINE=0
in the environment (or MIGRATE_ONLINE = False in the app's config) to
write the plain forms everywhere.
"""
import os

from alembic.operations import ops
from flask import current_app

from ..online.operations import (
    CreateForeignKeyOnlineOp,
    CreateIndexOnlineOp,
    CreateUniqueOnlineOp,
    DropIndexOnlineOp,
    SetNotNullOnlineOp,
)

SETTING = "MIGRATE_ONLINE"
DIALECTS = ("postgresql", "mysql")
OFF = ("0", "false", "no", "off")


def enabled(dialect):
    """Whether db migrate writes online forms for `dialect` in this run."""
    if dialect.name not in DIALECTS:
        return False
    value = os.environ.get(SETTING)
    if value is None:
        value = current_app.config.get(SETTING, True)
    return str(value).strip().lower() not in OFF


def write_online_forms(container, dialect):
    """Rewrite the operations of `container` (the upgrade's or the
    downgrade's) on tables it does not create into their online forms."""
    created = {(o.schema, o.table_name) for o in container.ops if isinstance(o, ops.CreateTableOp)}
    rewritten = []
    for operation in container.ops:
        if isinstance(operation, ops.ModifyTableOps):
            if (operation.schema, operation.table_name) in created:
                rewritten.append(operation)
            else:
                rewritten.extend(split_group(operation, dialect))
        else:
            online = online_forms(operation, dialect)
            rewritten.extend(online if online is not None and _table_of(operation) not in created
                             else [operation])
    container.ops[:] = rewritten


def split_group(group, dialect):
    """The table's group, cut where an operation has an online form, which
    stands between the parts, in its place."""
    parts, plain = [], []
    for operation in group.ops:
        online = online_forms(operation, dialect)
        if online is None:
            plain.append(operation)
            continue
        if plain:
            parts.append(ops.ModifyTableOps(group.table_name, plain, schema=group.schema))
            plain = []
        parts.extend(online)
    if plain:
        parts.append(ops.ModifyTableOps(group.table_name, plain, schema=group.schema))
    return parts


def online_forms(operation, dialect):
    """The operations that do what `operation` does online, or None when it
    has no online form here (or needs none)."""
    if isinstance(operation, ops.CreateIndexOp):
        return [CreateIndexOnlineOp.from_op(operation)]
    if isinstance(operation, ops.DropIndexOp):
        return [DropIndexOnlineOp.from_op(operation)]
    if isinstance(operation, ops.CreateUniqueConstraintOp):
        return [CreateUniqueOnlineOp.from_op(operation)]
    if isinstance(operation, ops.CreateForeignKeyOp):
        return [CreateForeignKeyOnlineOp.from_op(operation)]
    if isinstance(operation, ops.AlterColumnOp) and dialect.name == "postgresql" \
            and operation.modify_nullable is False and operation.existing_nullable is not False:
        return without_not_null(operation) + [SetNotNullOnlineOp.from_op(operation)]
    return None


def without_not_null(operation):
    """What else the alter_column changes, as an alter_column of its own
    ([] when NOT NULL was all of it)."""
    rest = alter_column_without(operation, "modify_nullable")
    return [] if rest is None else [rest]


# What each change of an AlterColumnOp is when it changes nothing.
UNCHANGED = {"modify_type": None, "modify_name": None, "modify_nullable": None,
             "modify_server_default": False, "modify_comment": False}


def alter_column_without(operation, *changes):
    """The alter_column `operation` without `changes` (names of UNCHANGED),
    as an alter_column of its own, or None when nothing else is left."""
    kept = {change: getattr(operation, change) for change in UNCHANGED if change not in changes}
    if all(value is UNCHANGED[change] for change, value in kept.items()):
        return None
    return ops.AlterColumnOp(
        operation.table_name, operation.column_name, schema=operation.schema,
        existing_type=operation.existing_type,
        existing_server_default=operation.existing_server_default,
        existing_nullable=operation.existing_nullable,
        existing_comment=operation.existing_comment, **kept, **operation.kw)


def _table_of(operation):
    return (getattr(operation, "schema", None),
            getattr(operation, "table_name", None) or getattr(operation, "source_table", None))
