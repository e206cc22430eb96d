"""What PostgreSQL does with the changes the built-in rules see, where a
reader (or squawk) could guess wrong, and how a revision asks for the
online forms:

- a longer VARCHAR, VARCHAR to TEXT, and NUMERIC with more precision and
  the same scale change only the catalog: the table and its indexes are
  not rewritten, and the ACCESS EXCLUSIVE lock lasts for the catalog change
  alone (db upgrade's lock timeout bounds its wait). Every other type
  change rewrites the table under that lock.
- SET NOT NULL reads every row under ACCESS EXCLUSIVE, unless (12 and
  later) a valid CHECK (column IS NOT NULL) proves it.

tests/test_lint_servers.py proves both on the server: the table's and its
index's relfilenode before and after each type change, and what SET NOT
NULL says it does (at DEBUG1) and the locks it holds.
"""
import sqlalchemy as sa
from alembic.operations import ops

from .column_types import is_longer_string, type_name

# How a revision does it the safe way (squawk's findings say it too): the
# online operations (online/), which db migrate writes.
CONCURRENTLY = ("op.create_index_online(...) (CREATE INDEX CONCURRENTLY, outside the "
                "revision's transaction; db migrate writes it)")
DROP_CONCURRENTLY = "op.drop_index_online(...) (DROP INDEX CONCURRENTLY)"
UNIQUE_USING_INDEX = ("op.create_unique_online(...) (CREATE UNIQUE INDEX CONCURRENTLY, then "
                      "ADD CONSTRAINT ... UNIQUE USING INDEX; db migrate writes it)")
NOT_VALID = ("op.create_foreign_key_online(...) / op.create_check_online(...) (NOT VALID, "
             "then VALIDATE CONSTRAINT in a transaction of its own; db migrate writes it)")
# SET NOT NULL takes a valid CHECK (column IS NOT NULL) as proof, instead
# of reading every row, since PostgreSQL 12.
CHECK_PROVES_NOT_NULL_SINCE = 12
CATALOG_ONLY = ("{} changes only the catalog on PostgreSQL: the table and its indexes are not "
                "rewritten, and the ACCESS EXCLUSIVE lock lasts for the catalog change alone")


def changes_only_catalog(old, new):
    """True when ALTER COLUMN ... TYPE from `old` to `new` leaves the table
    and its indexes as they are: every value fits the new type as it is,
    under the same collation."""
    if getattr(old, "collation", None) != getattr(new, "collation", None):
        return False
    return is_longer_string(old, new) or is_more_precise_numeric(old, new)


def is_more_precise_numeric(old, new):
    """NUMERIC(p, s) to NUMERIC(p' >= p, s)."""
    if not all(isinstance(type_, sa.Numeric) and not isinstance(type_, sa.Float)
               and type_.precision is not None for type_ in (old, new)):
        return False
    return new.precision >= old.precision and (new.scale or 0) == (old.scale or 0)


def catalog_only_lines(rehearsal, dialect):
    """{line: why} for each line of the rehearsed revision whose type
    changes all change only the catalog (a line that also runs raw SQL or
    another type change has none: what squawk reads there stands)."""
    changes, mixed = {}, set()
    for step in rehearsal.steps:
        operation = step.operation
        if isinstance(operation, ops.ExecuteSQLOp):
            mixed.add(step.line)
        elif isinstance(operation, ops.AlterColumnOp) and operation.modify_type is not None:
            old, new = operation.existing_type, operation.modify_type
            if changes_only_catalog(old, new):
                changes.setdefault(step.line, []).append("{}.{} {} -> {}".format(
                    operation.table_name, operation.column_name, type_name(old, dialect),
                    type_name(new, dialect)))
            else:
                mixed.add(step.line)
    return {line: CATALOG_ONLY.format(", ".join(found))
            for line, found in changes.items() if line not in mixed}


def not_null_safer(column, major_version):
    """The way to make `column` NOT NULL without reading every row under
    the lock; when the server is known to be older than 12, that SET NOT
    NULL reads them even then."""
    way = ("op.set_not_null_online(table, \"{}\") (db migrate writes it): a CHECK ({} IS "
           "NOT NULL) NOT VALID, VALIDATE CONSTRAINT (reads and writes go on), then SET NOT "
           "NULL, which PostgreSQL {}+ proves from the valid CHECK without reading the rows, "
           "and the CHECK dropped").format(column, column, CHECK_PROVES_NOT_NULL_SINCE)
    if major_version is not None and major_version < CHECK_PROVES_NOT_NULL_SINCE:
        way += ("; this server is PostgreSQL {}, where SET NOT NULL reads every row even "
                "then: keep the validated CHECK instead of NOT NULL until the server is {} "
                "or later").format(major_version, CHECK_PROVES_NOT_NULL_SINCE)
    return way


def major_version(dialect):
    """The server's major version, None when not known (offline)."""
    version = getattr(dialect, "server_version_info", None)
    return version[0] if version else None
