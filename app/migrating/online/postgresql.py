"""The online operations on PostgreSQL. Each runs outside the revision's
transaction (an autocommit block: CONCURRENTLY refuses to run inside one,
and a VALIDATE in its own short transaction holds nothing for long), one
statement at a time, and reads the catalog before each statement, so that
a run interrupted anywhere (killed, cancelled, refused by the rows) is
finished by running it again:

- an index: an INVALID index left by a cancelled CREATE INDEX CONCURRENTLY
  is dropped (concurrently) and built again; a valid one is kept;
- a constraint added NOT VALID and not yet validated is validated; one
  validated already is left alone;
- NOT NULL: the CHECK (column IS NOT NULL) is added NOT VALID, validated,
  SET NOT NULL uses it (PostgreSQL 12+ skips the full scan when a validated
  CHECK proves there is no NULL), and the CHECK is dropped; a column that
  is NOT NULL already only has the CHECK dropped. PostgreSQL 11 and older
  scan the table under the ACCESS EXCLUSIVE lock for SET NOT NULL even
  then: the revision says so when it runs there.

The statements that take an ACCESS EXCLUSIVE lock for a moment (ADD
CONSTRAINT, SET NOT NULL, DROP CONSTRAINT) make every query on the table
queue behind them while they wait for it: behind one long transaction, a
wait of TABLE_LOCK_TIMEOUT would stop the app's writes that long. So they
wait 100 ms at a time, and try again after a pause (as GitLab's lock
retries do), until the table lock timeout is spent: a write of the app
waits at most about 100 ms for one.

In a --sql script the catalog cannot be read: each statement is written as
the first run would send it.
"""
import hashlib
import logging
import time

import sqlalchemy as sa
from alembic.operations import ops
from alembic.operations.schemaobj import SchemaObjects
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import AddConstraint
from sqlalchemy.sql.elements import conv

from ..table_locks import is_lock_timeout
from .failures import refusal, refused_by_rows
from .statements import compiled, execute, qualified, quote

logger = logging.getLogger("alembic.runtime.migration")
# The longest identifier PostgreSQL keeps (NAMEDATALEN - 1).
MAX_NAME = 63
# From this version, SET NOT NULL trusts a validated CHECK (col IS NOT NULL).
SET_NOT_NULL_USES_CHECK = 12

INDEX_STATE = sa.text(
    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relname = :name AND n.nspname = COALESCE(:schema, current_schema())")
CONSTRAINT_STATE = sa.text(
    "SELECT con.convalidated FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE con.conname = :name "
    "AND c.relname = :table AND n.nspname = COALESCE(:schema, current_schema())")
COLUMN_NOT_NULL = sa.text(
    "SELECT a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attname = :column "
    "AND c.relname = :table AND n.nspname = COALESCE(:schema, current_schema()) "
    "AND NOT a.attisdropped")

MISSING, VALID, INVALID = "missing", "valid", "invalid"
# A statement that needs an ACCESS EXCLUSIVE lock waits this long for it at a
# time; between tries, a pause that doubles up to a second.
LOCK_ATTEMPT_MS = 100
FIRST_PAUSE = 0.05
LONGEST_PAUSE = 1.0


def create_index(operations, operation):
    """CREATE [UNIQUE] INDEX CONCURRENTLY, after dropping an invalid one."""
    with operations.get_context().autocommit_block():
        _build_index(operations, operation)


def drop_index(operations, operation):
    """DROP INDEX CONCURRENTLY IF EXISTS."""
    with operations.get_context().autocommit_block():
        execute(operations, "DROP INDEX CONCURRENTLY IF EXISTS {}".format(
            qualified(operations, operation.index_name, operation.schema)))


def create_unique(operations, operation):
    """CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING
    INDEX (a moment's ACCESS EXCLUSIVE lock: the index is built)."""
    name, table, schema = operation.constraint_name, operation.table_name, operation.schema
    with operations.get_context().autocommit_block():
        if _constraint_state(operations, name, table, schema) != MISSING:
            return
        _build_index(operations, ops.CreateIndexOp(name, table, operation.columns,
                                                   schema=schema, unique=True))
        briefly_locking(operations, "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}"
                        .format(qualified(operations, table, schema), quote(operations, name),
                                quote(operations, name)))


def create_foreign_key(operations, operation):
    """ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT."""
    constraint = SchemaObjects(operations.migration_context).foreign_key_constraint(
        operation.constraint_name, operation.source_table, operation.referent_table,
        operation.local_cols, operation.remote_cols, onupdate=operation.onupdate,
        ondelete=operation.ondelete, source_schema=operation.source_schema,
        referent_schema=operation.referent_schema)
    what = "{}.{} holds values that {} does not".format(
        operation.source_table, ", ".join(operation.local_cols), operation.referent_table)
    with operations.get_context().autocommit_block():
        _add_not_valid_then_validate(operations, constraint, operation.source_table,
                                     operation.source_schema, what)


def create_check(operations, operation):
    """ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT."""
    constraint = SchemaObjects(operations.migration_context).check_constraint(
        operation.constraint_name, operation.table_name, operation.condition,
        schema=operation.schema)
    what = "rows of {} break the CHECK {}".format(operation.table_name,
                                                 operation.constraint_name)
    with operations.get_context().autocommit_block():
        _add_not_valid_then_validate(operations, constraint, operation.table_name,
                                     operation.schema, what)


def set_not_null(operations, operation):
    """CHECK (column IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL, DROP the
    CHECK."""
    table, column, schema = operation.table_name, operation.column_name, operation.schema
    # conv(): the name as it is, whatever the metadata's naming convention.
    check = conv(not_null_check_name(table, column))
    with operations.get_context().autocommit_block():
        if not _is_not_null(operations, table, column, schema):
            version = _server_major_version(operations)
            if version is not None and version < SET_NOT_NULL_USES_CHECK:
                logger.warning(
                    "PostgreSQL %s scans %s for SET NOT NULL under an ACCESS EXCLUSIVE "
                    "lock, even after the CHECK: writes to it wait until it ends (12 and "
                    "later skip the scan)", version, table)
            condition = sa.column(column).isnot(None)
            constraint = SchemaObjects(operations.migration_context).check_constraint(
                check, table, condition, schema=schema)
            _add_not_valid_then_validate(
                operations, constraint, table, schema,
                "{}.{} holds NULL in some rows".format(table, column))
            briefly_locking(operations, "ALTER TABLE {} ALTER COLUMN {} SET NOT NULL".format(
                qualified(operations, table, schema), quote(operations, column)))
        briefly_locking(operations, "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}".format(
            qualified(operations, table, schema), quote(operations, check)))


def briefly_locking(operations, *statements):
    """Run `statements` (in one transaction when there are several), which
    hold an ACCESS EXCLUSIVE lock for a moment, waiting LOCK_ATTEMPT_MS at a
    time for the locks until the session's own lock_timeout (the table lock
    timeout) is spent, or forever without one."""
    if operations.migration_context.as_sql:
        for statement in statements:
            execute(operations, statement)
        return
    bind = operations.get_bind()
    budget_ms = _milliseconds(bind.exec_driver_sql("SHOW lock_timeout").scalar())
    set_timeout = "SET lock_timeout = '{}ms'"
    bind.exec_driver_sql(set_timeout.format(LOCK_ATTEMPT_MS))
    pause, started = FIRST_PAUSE, time.monotonic()
    try:
        while True:
            try:
                _in_one_transaction(operations, statements)
                return
            except DBAPIError as error:
                waited = (time.monotonic() - started) * 1000
                if not is_lock_timeout(error) or (budget_ms and waited >= budget_ms):
                    raise
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)
    finally:
        bind.exec_driver_sql(set_timeout.format(budget_ms))


def _in_one_transaction(operations, statements):
    """Inside an autocommit block: `statements`, committed together (a lock
    timeout on any of them rolls back them all, for the next try)."""
    if len(statements) == 1:
        execute(operations, statements[0])
        return
    bind = operations.get_bind()
    bind.exec_driver_sql("BEGIN")
    try:
        for statement in statements:
            execute(operations, statement)
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise


def _milliseconds(setting):
    """A PostgreSQL duration setting ('10s', '250ms', '0') in milliseconds."""
    units = {"ms": 1, "s": 1000, "min": 60000, "h": 3600000, "d": 86400000}
    number = setting.rstrip("abcdefghijklmnopqrstuvwxyz")
    return int(float(number) * units.get(setting[len(number):], 1))


def not_null_check_name(table, column):
    """The name of the CHECK that stands in for NOT NULL while it is
    validated: <table>_<column>_not_null (fitted)."""
    return fitted("{}_{}_not_null".format(table, column))


def fitted(name):
    """`name` cut to PostgreSQL's 63 characters with a hash of the whole
    when longer, so that two long names stay apart."""
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]  # noqa: S324 (a name, not a secret)
    return "{}_{}".format(name[:MAX_NAME - 9], digest)


def _build_index(operations, operation):
    """Inside an autocommit block: build the index of `operation` (an
    alembic CreateIndexOp or a CreateIndexOnlineOp) concurrently, unless a
    valid one is there; an invalid one is dropped first."""
    if not _rebuild_index(operations, operation.index_name, operation.schema):
        return
    try:
        operations.impl.create_index(_online_index(operation).to_index(
            operations.migration_context))
    except DBAPIError as error:
        if operation.unique and refused_by_rows(error):
            raise _duplicates(operation.table_name, operation.columns,
                              operation.index_name, error) from error
        raise


def _add_not_valid_then_validate(operations, constraint, table, schema, what):
    """Inside an autocommit block: add `constraint` NOT VALID unless it is
    there, then validate it unless it is valid; rows that break it are a
    StepRefused saying `what`."""
    name = constraint.name
    state = _constraint_state(operations, name, table, schema)
    if state == VALID:
        return
    if state == MISSING:
        briefly_locking(operations,
                        compiled(operations, AddConstraint(constraint)) + " NOT VALID")
    try:
        execute(operations, "ALTER TABLE {} VALIDATE CONSTRAINT {}".format(
            qualified(operations, table, schema), quote(operations, name)))
    except DBAPIError as error:
        if refused_by_rows(error):
            raise refusal(what, error) from error
        raise


def _rebuild_index(operations, name, schema):
    """Whether the index must be built: it is missing, or invalid (then it
    is dropped first)."""
    state = _index_state(operations, name, schema)
    if state == INVALID:
        logger.info("index %s is invalid (a build was interrupted): dropping it to build "
                    "it again", name)
        execute(operations, "DROP INDEX CONCURRENTLY IF EXISTS {}".format(
            qualified(operations, name, schema)))
    return state != VALID


def _online_index(operation):
    return ops.CreateIndexOp(operation.index_name, operation.table_name, operation.columns,
                             schema=operation.schema, unique=operation.unique,
                             **dict(operation.kw, postgresql_concurrently=True))


def _duplicates(table, columns, name, error):
    return refusal("{}.{} holds duplicate values, so the unique index {} cannot be built; "
                   "the next run drops the invalid index it left".format(
                       table, ", ".join(columns), name), error)


def _index_state(operations, name, schema):
    return _state(operations, INDEX_STATE, {"name": name, "schema": schema})


def _constraint_state(operations, name, table, schema):
    return _state(operations, CONSTRAINT_STATE, {"name": name, "table": table, "schema": schema})


def _state(operations, query, parameters):
    """MISSING, VALID or INVALID, as `query` (a flag of validity, or no row)
    says; MISSING in a --sql script, which cannot read the catalog."""
    if operations.migration_context.as_sql:
        return MISSING
    valid = operations.get_bind().execute(query, parameters).scalar()
    return MISSING if valid is None else (VALID if valid else INVALID)


def _is_not_null(operations, table, column, schema):
    if operations.migration_context.as_sql:
        return False
    return bool(operations.get_bind().execute(
        COLUMN_NOT_NULL, {"table": table, "column": column, "schema": schema}).scalar())


def _server_major_version(operations):
    if operations.migration_context.as_sql:
        return None
    version = getattr(operations.migration_context.dialect, "server_version_info", None)
    return version[0] if version else None
