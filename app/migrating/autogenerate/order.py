"""The order of a revision's operations. MariaDB/MySQL refuses to drop an
index a foreign key needs (error 1553), and makes an index of its own for a
foreign key created before its index; Alembic's autogenerate orders neither
for it, so a revision that adds a table with a foreign key and an index on
the same column upgrades but fails half way down. Here, for every backend:

- a table that is dropped takes its indexes with it: no drop_index first;
- on a table that stays, foreign keys are dropped before indexes and
  constraints, which go before columns; columns are added and altered, then
  indexes and constraints created, then foreign keys.
"""
from alembic.operations import ops

PHASES = (
    lambda o: isinstance(o, ops.DropConstraintOp) and o.constraint_type == "foreignkey",
    lambda o: isinstance(o, (ops.DropIndexOp, ops.DropConstraintOp)),
    lambda o: isinstance(o, ops.DropColumnOp),
    lambda o: isinstance(o, ops.AddColumnOp),
    lambda o: isinstance(o, ops.AlterColumnOp),
    lambda o: isinstance(o, ops.CreateIndexOp)
    or isinstance(o, ops.AddConstraintOp) and not isinstance(o, ops.CreateForeignKeyOp),
    lambda o: isinstance(o, ops.CreateForeignKeyOp),
)


def phase(operation):
    return next((number for number, test in enumerate(PHASES) if test(operation)), None)


def in_safe_order(container):
    """Reorder `container` (UpgradeOps or DowngradeOps) in place."""
    dropped = {(o.schema, o.table_name) for o in container.ops if isinstance(o, ops.DropTableOp)}
    kept = []
    for group in container.ops:
        if isinstance(group, ops.ModifyTableOps):
            if (group.schema, group.table_name) in dropped:
                group.ops[:] = [o for o in group.ops if not isinstance(o, ops.DropIndexOp)]
            phases = [phase(o) for o in group.ops]
            if None not in phases:
                group.ops[:] = [o for _, o in sorted(zip(phases, group.ops), key=lambda p: p[0])]
            if group.is_empty():
                continue
        kept.append(group)
    container.ops[:] = kept
