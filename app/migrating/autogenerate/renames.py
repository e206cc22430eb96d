"""Renames, which Alembic writes as a drop and an add that lose the data:

- a column dropped and another of the same type added to the same table;
- a table dropped and another created with the same columns (names and
  types).

If it was a rename (questioner.py asks), the revision renames instead, both
ways, and every value survives; for a table, the indexes, unique, check and
foreign key constraints named after the old table are renamed too (dropped
and created under the naming convention's new names), so `db check` is
clean afterwards. If not, or when nobody can be asked, drop + add stays and
a warning says the data goes.
"""
import sqlalchemy as sa
from alembic.operations import ops
from sqlalchemy.sql.elements import conv

from .questioner import warn_dropped
from .render import CreateCheckOp, RenameColumnOp


def ask_about_renames(upgrade_ops, downgrade_ops, questioner, migration_context):
    """Ask, table by table, whether each dropped column was renamed to an
    added one of the same type; rewrite both directions for each yes."""
    downgrades = {(group.schema, group.table_name): group for group in downgrade_ops.ops
                  if isinstance(group, ops.ModifyTableOps)}
    for group in upgrade_ops.ops:
        if not isinstance(group, ops.ModifyTableOps):
            continue
        for dropped, added in candidates(group, questioner, migration_context):
            group.ops[group.ops.index(dropped)] = renaming(
                group, dropped.to_column(), added.column)
            group.ops.remove(added)
            back = downgrades.get((group.schema, group.table_name))
            if back is not None:
                rename_back(back, dropped.to_column(), added.column)
        for operation in group.ops:
            if isinstance(operation, ops.DropColumnOp):
                warn_dropped("{}.{}".format(group.table_name, operation.column_name))


def candidates(group, questioner, migration_context):
    """[(DropColumnOp, AddColumnOp)] the questioner says are renames."""
    added = [o for o in group.ops if isinstance(o, ops.AddColumnOp)]
    found = []
    for dropped in [o for o in group.ops if isinstance(o, ops.DropColumnOp)]:
        old = dropped.to_column()
        for addition in added:
            if same_type(old, addition.column, migration_context) and questioner.is_rename(
                    group.table_name, old.name, addition.column.name,
                    type_text(addition.column, migration_context.dialect)):
                found.append((dropped, addition))
                added.remove(addition)
                break
    return found


def same_type(reflected, modelled, migration_context):
    """Whether autogenerate sees no type change between a column of the
    database and one of the models (display widths, collations and the
    like are the dialect's business)."""
    try:
        return not migration_context.impl.compare_type(reflected, modelled)
    except Exception:  # a type the dialect cannot compare is no rename candidate
        return False


def type_text(column, dialect):
    return str(column.type.compile(dialect=dialect))


def renaming(group, old, new):
    """alter_column(old, new_column_name=new), with what else changed."""
    kw = {}
    if bool(old.nullable) != bool(new.nullable):
        kw["modify_nullable"] = bool(new.nullable)
    if (old.server_default is None) != (new.server_default is None):
        kw["modify_server_default"] = new.server_default
    return RenameColumnOp(
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


def ask_about_table_renames(upgrade_ops, downgrade_ops, questioner, migration_context):
    """Ask whether each dropped table was renamed to a created one with the
    same columns; rewrite both directions for each yes."""
    dialect = migration_context.dialect
    metadata = migration_context.opts["target_metadata"]
    created = [o for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)]
    for dropped in [o for o in upgrade_ops.ops if isinstance(o, ops.DropTableOp)]:
        old = reflected_table(dropped)
        for creation in created:
            new = modelled_table(metadata, creation)
            if old.schema == new.schema and same_columns(old, new, migration_context) \
                    and questioner.is_table_rename(old.name, new.name):
                created.remove(creation)
                # The dropped table's indexes come as drop_index operations
                # of their own, not with its reflected Table.
                indexes = dropped_indexes(upgrade_ops, old.name)
                rename_table(upgrade_ops, old, new, dialect, old_indexes=indexes)
                rename_table(downgrade_ops, new, old, dialect, new_indexes=indexes)
                break
        else:
            warn_dropped("table " + dropped.table_name)


def reflected_table(dropped):
    """The Table a DropTableOp drops, as reflected."""
    table = getattr(dropped._reverse, "_orig_table", None)
    return table if table is not None else dropped.to_table()


def modelled_table(metadata, creation):
    """The models' Table a CreateTableOp makes."""
    key = creation.table_name if creation.schema is None \
        else "{}.{}".format(creation.schema, creation.table_name)
    return metadata.tables[key]


def same_columns(reflected, modelled, migration_context):
    """The same column names, each of the same type."""
    if set(reflected.columns.keys()) != set(modelled.columns.keys()):
        return False
    return all(same_type(reflected.columns[name], modelled.columns[name], migration_context)
               for name in reflected.columns.keys())


def dropped_indexes(container, table_name):
    return [operation.to_index() for group in container.ops
            if isinstance(group, ops.ModifyTableOps) and group.table_name == table_name
            for operation in group.ops if isinstance(operation, ops.DropIndexOp)]


def rename_table(container, old, new, dialect, old_indexes=(), new_indexes=()):
    """Replace in `container` every operation on the tables `old` and `new`
    by: rename old to new, then swap what is named after the old table for
    what the new one names (first, so that other tables' foreign keys to the
    new name find it). `old_indexes` and `new_indexes`: indexes the Tables
    do not list."""
    names = {old.name, new.name}
    container.ops[:] = [o for o in container.ops if getattr(o, "table_name", None) not in names]
    swaps = renamed_objects(named_objects(old, dialect, old_indexes),
                            named_objects(new, dialect, new_indexes), new)
    renaming = [ops.RenameTableOp(old.name, new.name, schema=old.schema)]
    if swaps:
        renaming.append(ops.ModifyTableOps(new.name, swaps, schema=new.schema))
    container.ops[:0] = renaming


def renamed_objects(old_objects, new_objects, new):
    """Drops of the old table's named indexes and constraints that the new
    one names otherwise, and creations of the new one's."""
    drops = [drop(kind, name, new) for (kind, name) in old_objects
             if (kind, name) not in new_objects]
    creates = [create(kind, item, new) for (kind, name), item in new_objects.items()
               if (kind, name) not in old_objects]
    return drops + creates


def named_objects(table, dialect, indexes=()):
    """{(kind, name): index or constraint} of the table's named indexes (and
    `indexes`), unique, check and foreign key constraints that `dialect` has."""
    found = {}
    for constraint in table.constraints:
        if not constraint.name or isinstance(constraint, sa.PrimaryKeyConstraint):
            continue
        if isinstance(constraint, sa.CheckConstraint) \
                and getattr(constraint, "_type_bound", False) and dialect.name != "sqlite":
            continue  # an Enum's CHECK exists only where the enum is not native
        kind = {sa.UniqueConstraint: "unique", sa.CheckConstraint: "check",
                sa.ForeignKeyConstraint: "foreignkey"}.get(type(constraint))
        if kind:
            found[kind, str(constraint.name)] = constraint
    unique_names = {name for kind, name in found if kind == "unique"}
    for index in list(table.indexes) + list(indexes):
        # MySQL reflects a unique constraint as an index too.
        if index.name and str(index.name) not in unique_names:
            found["index", str(index.name)] = index
    return found


def drop(kind, name, table):
    name = conv(name)  # the name it has, not one the naming convention makes of it
    if kind == "index":
        return ops.DropIndexOp(name, table_name=table.name, schema=table.schema)
    return ops.DropConstraintOp(name, table.name, type_=kind, schema=table.schema)


def create(kind, item, table):
    item_name = conv(item.name)
    if kind == "index":
        return ops.CreateIndexOp(item_name, table.name, [c.name for c in item.columns],
                                 schema=table.schema, unique=item.unique)
    if kind == "unique":
        return ops.CreateUniqueConstraintOp(item_name, table.name,
                                            [c.name for c in item.columns], schema=table.schema)
    if kind == "check":
        return CreateCheckOp(item_name, table.name, item.sqltext,
                                           schema=table.schema)
    return ops.CreateForeignKeyOp(
        item_name, table.name, item.referred_table.name,
        [element.parent.name for element in item.elements],
        [element.column.name for element in item.elements],
        referent_schema=item.referred_table.schema, source_schema=table.schema,
        ondelete=item.ondelete, onupdate=item.onupdate)

