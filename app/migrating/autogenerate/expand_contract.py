"""The changes `db migrate` writes in two halves on PostgreSQL (online/
expand_contract.py runs them): op.expand_column before the deploy, and
op.contract_column after it (post_deploy.py moves it to the second
revision), for

    a column renamed                      the old release still reads and
                                          writes the old name
    a column's type changed, where        ALTER COLUMN ... TYPE rewrites the
    PostgreSQL rewrites the table         table under an ACCESS EXCLUSIVE lock
                                          (INTEGER to BIGINT, the primary key
                                          included)
    an enum value removed                 alembic-postgresql-enum recreates
                                          the type and casts every row under
                                          that lock

on a table that exists before the revision. A type change PostgreSQL makes
in its catalog alone (VARCHAR(n) to a longer one or to TEXT, a NUMERIC made
more precise) stays one alter_column. At a terminal, db migrate asks for
each change whether to write it this way or in one step; without one, it
writes it this way and says so.
"""
import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.dialects import postgresql

from ..lint.postgresql import changes_only_catalog
from ..online.operations import ContractColumnOp, ExpandColumnOp
from .online import alter_column_without


def sync_enum_values_op():
    """alembic-postgresql-enum's operation class, imported only here, on
    PostgreSQL: importing the library switches on its comparison for every
    dialect, which then warns on the others (postgresql.py enables it)."""
    from alembic_postgresql_enum.operations import SyncEnumValuesOp

    return SyncEnumValuesOp


def write_in_halves(upgrade_ops, downgrade_ops, questioner):
    """Rewrite the changes above of `upgrade_ops` into expand and contract,
    and their reverses in `downgrade_ops`, where `questioner` agrees."""
    created = {(o.schema, o.table_name) for o in upgrade_ops.ops
               if isinstance(o, ops.CreateTableOp)}
    rewritten = []
    for operation in upgrade_ops.ops:
        if isinstance(operation, ops.ModifyTableOps) \
                and (operation.schema, operation.table_name) not in created:
            rewritten.extend(halves_of_group(operation, downgrade_ops, questioner))
        elif isinstance(operation, sync_enum_values_op()):
            rewritten.extend(halves_of_enum(operation, downgrade_ops, questioner))
        else:
            rewritten.append(operation)
    upgrade_ops.ops[:] = rewritten


def halves_of_group(group, downgrade_ops, questioner):
    """The table's group, with each change written in halves taken out of
    it: the rest of the group, then expand and contract in its place."""
    kept, halves = [], []
    for operation in group.ops:
        change = change_in_halves(operation, questioner)
        if change is None:
            kept.append(operation)
            continue
        expand, contract, rest = change
        if rest is not None:
            kept.append(rest)
        halves.extend([expand, contract])
        undo(downgrade_ops, operation, [contract.reverse(), expand.reverse()])
    group.ops[:] = kept
    return ([group] if kept else []) + halves


def change_in_halves(operation, questioner):
    """(expand, contract, the rest of the alter_column or None) for an
    alter_column that renames a column or rewrites the table to change its
    type, when the questioner agrees; else None."""
    if not isinstance(operation, ops.AlterColumnOp):
        return None
    renamed = operation.modify_name is not None
    retyped = operation.modify_type is not None and operation.existing_type is not None \
        and not changes_only_catalog(operation.existing_type, operation.modify_type)
    if renamed == retyped:  # neither, or both at once (one change at a time)
        return None
    where = "{}.{}".format(operation.table_name, operation.column_name)
    if renamed:
        change = "renamed to {}".format(operation.modify_name)
        # The type too: a --sql script (and db lint) cannot read it.
        arguments = dict(new_name=operation.modify_name, existing_type=operation.existing_type)
    else:
        change = "from {} to {}".format(type_text(operation.existing_type),
                                        type_text(operation.modify_type))
        arguments = dict(type_=operation.modify_type, existing_type=operation.existing_type)
    if not questioner.in_halves(where, change):
        return None
    halves = [half(operation.table_name, operation.column_name, schema=operation.schema,
                   **arguments) for half in (ExpandColumnOp, ContractColumnOp)]
    return halves[0], halves[1], the_rest(operation)


def the_rest(operation):
    """What else the alter_column changes, as an alter_column of the old
    column made before the expand (which copies it to the new one), or None."""
    return alter_column_without(operation, "modify_type", "modify_name")


def halves_of_enum(operation, downgrade_ops, questioner):
    """alembic-postgresql-enum's sync_enum_values that removes values:
    expand and contract of each column of the type, where the questioner
    agrees; else the operation as it is."""
    removed = [value for value in operation.old_values if value not in operation.new_values]
    columns = [column for column in operation.affected_columns
               if getattr(column.column_type, "name", "COMMON") == "COMMON"]
    if not removed or len(columns) != len(operation.affected_columns):
        return [operation]
    change = "losing {} of enum {}".format(", ".join(map(repr, removed)), operation.name)
    if not all(questioner.in_halves("{}.{}".format(c.table_name, c.column_name), change)
               for c in columns):
        return [operation]
    new_type = postgresql.ENUM(*operation.new_values, name=operation.name)
    old_type = postgresql.ENUM(*operation.old_values, name=operation.name)
    expands = [ExpandColumnOp(c.table_name, c.column_name, type_=new_type, existing_type=old_type,
                              schema=schema(c)) for c in columns]
    contracts = [ContractColumnOp(c.table_name, c.column_name, type_=new_type,
                                  existing_type=old_type, schema=schema(c)) for c in columns]
    undo(downgrade_ops, operation, [c.reverse() for c in reversed(contracts)]
         + [e.reverse() for e in reversed(expands)])
    return expands + contracts


def schema(column):
    """The schema of alembic-postgresql-enum's TableReference `column`
    (None where it says "Unspecified")."""
    return column.table_schema if isinstance(column.table_schema, str) else None


def undo(downgrade_ops, operation, reverses):
    """Put `reverses` where the downgrade undoes `operation` (its reverse
    alter_column or sync_enum_values): before it, which keeps what else it
    changes back (a nullable, a default) and no longer the type or name."""
    for index, candidate in enumerate(downgrade_ops.ops):
        inside = candidate.ops if isinstance(candidate, ops.ModifyTableOps) else [candidate]
        for inner, step in enumerate(inside):
            if undoes(step, operation):
                rest = without_type_or_name(step)
                inside[inner:inner + 1] = [rest] if rest is not None else []
                if not inside:
                    downgrade_ops.ops[index:index + 1] = []
                downgrade_ops.ops[index:index] = reverses
                return
    downgrade_ops.ops[:0] = reverses


def without_type_or_name(operation):
    """An alter_column's other changes, or None (a sync_enum_values has none)."""
    if not isinstance(operation, ops.AlterColumnOp):
        return None
    return the_rest(operation)


def undoes(candidate, operation):
    """Whether the downgrade's `candidate` is the reverse of `operation`."""
    if isinstance(operation, ops.AlterColumnOp):
        return isinstance(candidate, ops.AlterColumnOp) \
            and candidate.table_name == operation.table_name \
            and candidate.column_name in (operation.column_name, operation.modify_name) \
            and (candidate.modify_type is not None or candidate.modify_name is not None)
    return isinstance(candidate, sync_enum_values_op()) and candidate.name == operation.name \
        and candidate.new_values == operation.old_values


def type_text(type_):
    if isinstance(type_, sa.types.TypeEngine):
        return str(type_.compile(dialect=postgresql.dialect()))
    return str(type_)
