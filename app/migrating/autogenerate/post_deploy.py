"""What `db migrate` puts after the deploy (phases.py): the operations that
remove what the release still running during the deploy reads or writes.

    a table dropped                      (and the indexes dropped with it)
    a column dropped
    a new NOT NULL column's default      (the old release inserts rows
    dropped                              without the column: the one-off
                                         default fills it until it is gone)
    the contract half of a change        (op.contract_column: expand_contract.py)

A NOT NULL column without a default that is dropped after the deploy is
made nullable before it, so that the new release, whose model no longer
has it, can insert rows meanwhile.

They go into a second revision, on the post_deploy branch: the branch's
first revision starts it (at its own base), later ones follow its head, and
each depends on the main-line revision written with it (or on the main
line's head, when everything in the change runs after the deploy). Their
downgrades go with them: what brings a dropped table or column back is in
the post-deploy revision's downgrade, the rest in the first revision's.

A project that deploys in one step loses nothing: `db upgrade` runs both.
Set MIGRATE_PHASES=0 in the environment (or MIGRATE_PHASES = False in the
app's config) to write one revision, as before. A multidb repository
always gets one.
"""
import logging
import os
import re

from alembic.operations import ops
from alembic.util import rev_id
from flask import current_app

from ..online.backfill import BackfillOp
from ..online.operations import ContractColumnOp, CreateIndexOnlineOp, DropIndexOnlineOp
from ..phases import POST_DEPLOY, main_line_heads, post_deploy_heads

SETTING = "MIGRATE_PHASES"
OFF = ("0", "false", "no", "off")
MESSAGE_PREFIX = "after the deploy: "
DROPPED_INDEXES = (ops.DropIndexOp, DropIndexOnlineOp)
CREATED_AGAIN = (ops.CreateTableOp, ops.CreateIndexOp, CreateIndexOnlineOp)
# The UPDATE that fills a column brought back (not_null.update_sql).
FILLING = re.compile(r'UPDATE [`"]?(\w+)[`"]? SET [`"]?(\w+)[`"]?\s*=', re.IGNORECASE)

logger = logging.getLogger("alembic.env")


def enabled():
    """Whether db migrate splits a change into its two phases in this run."""
    value = os.environ.get(SETTING)
    if value is None:
        value = current_app.config.get(SETTING, True)
    return str(value).strip().lower() not in OFF


class Removed:
    """What the upgrade removes after the deploy: the tables it drops, the
    (table, column) pairs it drops, and those whose one-off default it drops
    (columns it adds)."""

    def __init__(self, upgrade_ops):
        self.tables = {(o.schema, o.table_name) for o in upgrade_ops.ops
                       if isinstance(o, ops.DropTableOp)}
        self.columns = set()
        self.added_columns = set()
        for group in groups(upgrade_ops):
            for operation in group.ops:
                key = (group.schema, group.table_name, getattr(operation, "column_name", None))
                if isinstance(operation, ops.DropColumnOp):
                    self.columns.add(key)
                elif isinstance(operation, ops.AddColumnOp):
                    self.added_columns.add((group.schema, group.table_name,
                                            operation.column.name))

    def after_deploy(self, operation, schema, table):
        """Whether the upgrade's `operation` on `table` runs after the deploy."""
        if isinstance(operation, ops.DropTableOp):
            return True
        if isinstance(operation, ContractColumnOp):
            return not operation.undo
        if isinstance(operation, DROPPED_INDEXES):
            return (schema, table) in self.tables
        if isinstance(operation, ops.DropColumnOp):
            return True
        return isinstance(operation, ops.AlterColumnOp) \
            and operation.modify_server_default is None \
            and (schema, table, operation.column_name) in self.added_columns

    def brings_back(self, operation, schema, table):
        """Whether the downgrade's `operation` on `table` undoes what runs
        after the deploy."""
        if isinstance(operation, ContractColumnOp):
            return operation.undo
        if isinstance(operation, CREATED_AGAIN):
            return (schema, table) in self.tables
        if isinstance(operation, ops.AddColumnOp):
            return (schema, table, operation.column.name) in self.columns
        # A column brought back NOT NULL is filled, then made NOT NULL
        # (not_null.py): those steps go with it.
        if isinstance(operation, ops.AlterColumnOp):
            return (schema, table, operation.column_name) in self.columns
        if isinstance(operation, BackfillOp):
            return any((schema, table, column) in self.columns for column in operation.values)
        if isinstance(operation, ops.ExecuteSQLOp) and isinstance(operation.sqltext, str):
            update = FILLING.match(operation.sqltext)
            return update is not None and (None, update.group(1), update.group(2)) in self.columns
        return False


def groups(container):
    return [o for o in container.ops if isinstance(o, ops.ModifyTableOps)]


def take(container, belongs):
    """Take the operations for which `belongs(operation, schema, table)` out
    of `container` (and out of its tables' groups, which keep their order)
    and return them, in order."""
    taken, kept = [], []
    for operation in container.ops:
        if isinstance(operation, ops.ModifyTableOps):
            inside = [o for o in operation.ops
                      if belongs(o, operation.schema, operation.table_name)]
            rest = [o for o in operation.ops if not any(o is t for t in inside)]
            if inside:
                taken.append(ops.ModifyTableOps(operation.table_name, inside,
                                                schema=operation.schema))
            if rest:
                kept.append(ops.ModifyTableOps(operation.table_name, rest,
                                               schema=operation.schema))
        elif belongs(operation, getattr(operation, "schema", None), table_of(operation)):
            taken.append(operation)
        else:
            kept.append(operation)
    container.ops[:] = kept
    return taken


def table_of(operation):
    return getattr(operation, "table_name", None) or getattr(operation, "source_table", None)


def write_in_phases(directives, script_directory):
    """Split the one revision of `directives` into the revision that runs
    before the deploy and the one that runs after it (either may be all
    there is), in place."""
    first = directives[0]
    upgrade_ops, downgrade_ops = first.upgrade_ops, first.downgrade_ops
    removed = Removed(upgrade_ops)
    after_upgrade = take(upgrade_ops, removed.after_deploy)
    branch_heads = post_deploy_heads(script_directory)
    if not after_upgrade:
        if branch_heads:
            first.head = main_line_head(script_directory)
        return
    after_downgrade = take(downgrade_ops, removed.brings_back)
    if upgrade_ops.is_empty():  # nothing before the deploy: its undo goes too
        after_downgrade.extend(downgrade_ops.ops)
        downgrade_ops.ops[:] = []
    nullable, not_null_again = nullable_until_dropped(after_upgrade, after_downgrade)
    upgrade_ops.ops.extend(nullable)
    downgrade_ops.ops[:0] = not_null_again
    main_head = main_line_head(script_directory)
    second = ops.MigrationScript(
        rev_id(), ops.UpgradeOps(after_upgrade), ops.DowngradeOps(after_downgrade),
        message=MESSAGE_PREFIX + (first.message or "the rest of the change"),
        imports=set(first.imports), version_path=first.version_path,
        head=(branch_heads or ("base",))[0],
        branch_label=None if branch_heads else POST_DEPLOY,
        depends_on=first.rev_id if not upgrade_ops.is_empty() else main_head)
    if upgrade_ops.is_empty():
        directives[:] = [second]
    else:
        first.head = main_head
        directives[:] = [first, second]
    logger.info("Writing the change in two phases: %s runs after the deploy "
                "(-x phase=post-deploy); `db upgrade` runs both", second.rev_id)


def nullable_until_dropped(after_upgrade, after_downgrade):
    """A NOT NULL column without a default, dropped after the deploy, would
    refuse the new release's inserts until then (its model no longer has
    the column): before the deploy it is made nullable. Returns the
    operations that do so, and those that make it NOT NULL again in the
    downgrade when the post-deploy revision's downgrade brings it back NOT
    NULL (with a value; brought back nullable, it stays so)."""
    nullable, not_null_again = [], []
    back_not_null = {(group.schema, group.table_name, operation.column.name)
                     for group in after_downgrade if isinstance(group, ops.ModifyTableOps)
                     for operation in group.ops
                     if isinstance(operation, ops.AddColumnOp) and not operation.column.nullable}
    back_not_null |= {(group.schema, group.table_name, operation.column_name)
                      for group in after_downgrade if isinstance(group, ops.ModifyTableOps)
                      for operation in group.ops
                      if isinstance(operation, ops.AlterColumnOp)
                      and operation.modify_nullable is False}
    for group in after_upgrade:
        if not isinstance(group, ops.ModifyTableOps):
            continue
        for operation in group.ops:
            if not isinstance(operation, ops.DropColumnOp) or operation._reverse is None:
                continue
            column = operation.to_column()
            if column.nullable or column.server_default is not None or column.primary_key:
                continue
            arguments = dict(schema=group.schema, existing_type=column.type)
            nullable.append(ops.ModifyTableOps(group.table_name, [ops.AlterColumnOp(
                group.table_name, column.name, existing_nullable=False, modify_nullable=True,
                **arguments)], schema=group.schema))
            if (group.schema, group.table_name, column.name) in back_not_null:
                not_null_again.append(ops.ModifyTableOps(group.table_name, [ops.AlterColumnOp(
                    group.table_name, column.name, existing_nullable=True,
                    modify_nullable=False, **arguments)], schema=group.schema))
    return nullable, not_null_again


def main_line_head(script_directory):
    """The main line's head, as revision() takes it."""
    heads = main_line_heads(script_directory)
    return heads[0] if len(heads) == 1 else "head"
