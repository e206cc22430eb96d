"""A column dropped and another of the same type added to the same table:
Alembic writes drop_column + add_column, which loses every value of the
column. If it was a rename (questioner.py asks), the revision renames it
instead, both ways, and every value survives; if not, or when nobody can be
asked, drop + add stays and a warning says the column's data goes.
"""
from alembic.operations import ops

from .questioner import warn


def ask_about_renames(upgrade_ops, downgrade_ops, questioner, dialect):
    """Ask, table by table, whether each dropped column was renamed to an
    added one of the same type; rewrite both directions for each yes."""
    downgrades = {(group.schema, group.table_name): group for group in downgrade_ops.ops
                  if isinstance(group, ops.ModifyTableOps)}
    for group in upgrade_ops.ops:
        if not isinstance(group, ops.ModifyTableOps):
            continue
        for dropped, added in candidates(group, questioner, dialect):
            group.ops[group.ops.index(dropped)] = renaming(
                group, dropped.to_column(), added.column)
            group.ops.remove(added)
            back = downgrades.get((group.schema, group.table_name))
            if back is not None:
                rename_back(back, dropped.to_column(), added.column)
        for operation in group.ops:
            if isinstance(operation, ops.DropColumnOp):
                warn("{}.{} is dropped: its data will be lost when the revision runs"
                     .format(group.table_name, operation.column_name))


def candidates(group, questioner, dialect):
    """[(DropColumnOp, AddColumnOp)] the questioner says are renames."""
    added = [o for o in group.ops if isinstance(o, ops.AddColumnOp)]
    found = []
    for dropped in [o for o in group.ops if isinstance(o, ops.DropColumnOp)]:
        old = dropped.to_column()
        for addition in added:
            type_text = type_of(old, dialect)
            if type_text == type_of(addition.column, dialect) and questioner.is_rename(
                    group.table_name, old.name, addition.column.name, type_text):
                found.append((dropped, addition))
                added.remove(addition)
                break
    return found


def type_of(column, dialect):
    try:
        return str(column.type.compile(dialect=dialect))
    except Exception:  # a type this dialect cannot render is no rename candidate
        return None


def renaming(group, old, new):
    """alter_column(old, new_column_name=new), with what else changed."""
    kw = {}
    if bool(old.nullable) != bool(new.nullable):
        kw["modify_nullable"] = bool(new.nullable)
    if (old.server_default is None) != (new.server_default is None):
        kw["modify_server_default"] = new.server_default
    return ops.AlterColumnOp(
        group.table_name, old.name, schema=group.schema, modify_name=new.name,
        existing_type=new.type, existing_nullable=bool(old.nullable),
        existing_server_default=old.server_default, **kw)


def rename_back(group, old, new):
    """In the downgrade's group of the table: replace add old + drop new by
    renaming new back to old."""
    add_old = next((o for o in group.ops if isinstance(o, ops.AddColumnOp)
                    and o.column.name == old.name), None)
    drop_new = next((o for o in group.ops if isinstance(o, ops.DropColumnOp)
                     and o.column_name == new.name), None)
    if add_old is None or drop_new is None:
        return
    group.ops[group.ops.index(drop_new)] = renaming(group, new, old)
    group.ops.remove(add_old)
