"""Comparisons added to Alembic's autogenerate, registered once per process
as one of its column type comparisons (sqlite.py, mysql.py)."""
from alembic.autogenerate import comparators

_registered = set()


def register_type_comparison(compare):
    """Register `compare(autogen_context, alter_column_op, schema, table,
    column, conn_col, metadata_col)`, which sets the operation's types and
    returns True when it finds a change, to run with Alembic's own type
    comparison and have the last word."""
    if compare in _registered:
        return
    try:
        from alembic.util import DispatchPriority, PriorityDispatchResult
    except ImportError:
        # Before alembic 1.18, comparisons run in the order registered: this
        # one after alembic's own, so the types it sets stay.
        comparators.dispatch_for("column")(compare)
    else:
        # From 1.18, one of the "types" comparisons, first, and the last to
        # run when it finds a change.
        def compare_first(*args):
            changed = compare(*args)
            return PriorityDispatchResult.STOP if changed else PriorityDispatchResult.CONTINUE

        comparators.dispatch_for("column", priority=DispatchPriority.FIRST,
                                 subgroup="types")(compare_first)
    _registered.add(compare)
