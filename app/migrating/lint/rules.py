"""The built-in rules: what each Alembic operation of a revision does to a
production database while the app runs, per dialect. What the servers do
(in place or by a copy on MariaDB/MySQL, a rewrite or the catalog alone on
PostgreSQL) is in mysql.py and postgresql.py; here, the verdicts.

Each rule is named for the danger it catches and says the safer way. A rule
that squawk also has (on PostgreSQL) names it in SQUAWK_NAMES: when squawk
runs, its finding stands for both, and a suppression of either name
silences both.

"Existing table" means one that the revision does not create itself: a
table it creates is empty and unread while it runs, but one an earlier
revision created has rows in every database that ran that one long ago (as
strong_migrations and squawk judge each migration on its own).

A revision of the post_deploy branch (phases.py) runs after the deploy,
when the old release is gone: dropping a table or a column there breaks no
running code, and is no finding.
"""
import ast
import re

import sqlalchemy as sa
from alembic.operations import ops

from ..online import (
    ONLINE_OPERATIONS,
    BackfillOp,
    CreateCheckOnlineOp,
    SetNotNullOnlineOp,
    table_copy,
)
from ..phases import is_post_deploy
from . import mysql, postgresql
from .column_types import enum_values, is_longer_string, is_narrowed, type_name
from .findings import ERROR, WARNING, Finding

# Built-in rule -> the squawk rules it matches.
SQUAWK_NAMES = {
    "drop-table": ("ban-drop-table",),
    "drop-column": ("ban-drop-column",),
    "rename-table": ("renaming-table",),
    "rename-column": ("renaming-column",),
    "change-column-type": ("changing-column-type",),
    "set-not-null": ("adding-not-nullable-field",),
    "add-required-column": ("adding-required-field",),
    "add-index": ("require-concurrent-index-creation",),
    "add-unique": ("disallowed-unique-constraint",),
    "add-foreign-key": ("adding-foreign-key-constraint",),
    "add-check": ("constraint-missing-not-valid",),
}
# Rules of our own with nothing like them in squawk: they run on PostgreSQL
# too.
OWN_RULES = ("enum-value-removed", "update-in-one-statement",
             "suppression-without-reason", "suppression-of-unknown-rule", "not-rehearsed")
RULES = tuple(SQUAWK_NAMES) + OWN_RULES
BUILT_IN_NAME = {squawk_name: rule for rule, names in SQUAWK_NAMES.items()
                 for squawk_name in names}

# The safer way of the rules whose squawk counterpart gives none.
SAFER = {
    "drop-table": "drop it after the deploy, in a revision of the post_deploy branch "
                  "(db migrate writes drops there), or stop using the table in one release "
                  "and drop it in a later one",
    "drop-column": "drop it after the deploy, in a revision of the post_deploy branch "
                   "(db migrate writes drops there), or stop using the column in one release "
                   "and drop it in a later one",
    "rename-table": "create the new table, write to both, copy the rows, move reads, then "
                    "drop the old one in a later release",
    "rename-column": "add the new column, write both, backfill, move reads, then drop the "
                     "old one in a later release",
    "change-column-type": "add a column of the new type, write both, backfill in batches, "
                          "move reads, then drop the old column in a later release",
}
# Where the server copies the table, the tools that copy it while writes go on.
ONLINE_SCHEMA_CHANGE = "an online schema change tool (pt-online-schema-change, gh-ost)"
# MariaDB/MySQL: what db upgrade does with an ALTER the server must copy
# (online/table_copy.py).
COPIED_BY_THE_TOOL = ("db upgrade copies a table of {} rows or more with {} while writes go "
                      "on, a smaller one by the plain ALTER").format(
                          table_copy.DEFAULT_MIN_ROWS, table_copy.TOOL)
AUTOINC_ADVICE = ("keep the server's innodb_autoinc_lock_mode at 2, or some of the app's "
                  "inserts may fail as deadlocks while the tool copies")
NO_TOOL = ("{} is not installed here: db upgrade refuses such an ALTER on a table of {} rows "
           "or more; {}").format(table_copy.TOOL, table_copy.DEFAULT_MIN_ROWS,
                                 table_copy.INSTALL)
SAFER_ENUM_ON_MYSQL = ("append new values at the end of the ENUM (in place); on a big table, "
                       "remove or reorder values with " + ONLINE_SCHEMA_CHANGE)
BOUNDED_WHERE = re.compile(r"<|>|\bBETWEEN\b|\bIN\b|\bLIMIT\b", re.IGNORECASE)
TEXT_UPDATE = re.compile(
    r"^\s*(?:UPDATE\s+[`\"]?(?P<table>[\w.]+)[`\"]?\s+SET\s+(?P<set>.*?)"
    r"|DELETE\s+FROM\s+[`\"]?(?P<deleted>[\w.]+)[`\"]?)(?:\s+WHERE\s+(?P<where>.*))?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL)
SET_COLUMN = re.compile(r"[`\"]?(\w+)[`\"]?\s*=")


class History:
    """What the revisions checked so far did: the columns they filled (a
    backfill before a NOT NULL, in the same revision or an earlier one), the
    tables the revision being checked creates, and whether it runs after
    the deploy (phases.py), when no code of the old release still runs."""

    def __init__(self):
        self.created_tables = set()
        self.filled_columns = set()
        self.after_deploy = False

    def is_existing(self, table):
        return table not in self.created_tables


def check(rehearsal, dialect, history, skip=()):
    """The built-in findings of one revision's rehearsal on `dialect` (a
    SQLAlchemy Dialect), leaving out the rules in `skip`."""
    history.created_tables = set()
    history.after_deploy = is_post_deploy(rehearsal.script)
    findings = []
    for step in rehearsal.steps:
        # squawk's finding on an online operation's line is overruled
        # (check.py): the built-in verdict on it stands.
        own = isinstance(step.operation, ONLINE_OPERATIONS)
        for rule, level, problem, safer in check_step(step.operation, dialect, history):
            if own or rule not in skip:
                findings.append(Finding(rehearsal, step.line, rule, level, problem, safer))
    if "enum-value-removed" not in skip:
        findings.extend(removed_enum_values(rehearsal))
    if rehearsal.error is not None:
        findings.append(Finding(
            rehearsal, rehearsal.error_line, "not-rehearsed", WARNING,
            "db lint ran upgrade() offline, as --sql does, and it stopped here ({}); what "
            "follows in the revision is not checked".format(rehearsal.error),
            "let the revision run offline (op.get_context().as_sql tells it), or review "
            "what follows by hand"))
    return findings


def check_step(operation, dialect, history):
    """(rule, level, problem, safer) for each danger of one operation."""
    dialect_name = dialect.name
    if isinstance(operation, ops.CreateTableOp):
        history.created_tables.add(operation.table_name)
        return
    if isinstance(operation, ops.DropTableOp):
        if history.after_deploy:
            return
        yield ("drop-table", ERROR,
               "drops table {} and its data; code still running during the deploy fails "
               "on it".format(operation.table_name),
               SAFER["drop-table"])
        return
    if isinstance(operation, ops.RenameTableOp):
        if history.is_existing(operation.table_name):
            yield ("rename-table", ERROR,
                   "renames table {} to {}; code still running during the deploy uses the "
                   "old name and fails".format(operation.table_name, operation.new_table_name),
                   SAFER["rename-table"])
        return
    table = getattr(operation, "table_name", None) or getattr(operation, "source_table", None)
    if table is not None and not history.is_existing(table):
        return
    if isinstance(operation, BackfillOp):
        history.filled_columns.update((table, column) for column in operation.values)
    elif isinstance(operation, ONLINE_OPERATIONS):
        yield from online_operation(operation, dialect, history)
    elif isinstance(operation, ops.DropColumnOp):
        if history.after_deploy:
            return
        yield ("drop-column", ERROR,
               "drops column {}.{} and its data; code still running during the deploy "
               "selects it and fails".format(table, operation.column_name),
               SAFER["drop-column"])
    elif isinstance(operation, ops.AddColumnOp):
        yield from added_column(operation, dialect_name)
    elif isinstance(operation, ops.AlterColumnOp):
        yield from altered_column(operation, dialect, history)
    elif isinstance(operation, ops.CreateIndexOp):
        yield from added_index(operation, dialect_name)
    elif isinstance(operation, ops.CreateUniqueConstraintOp):
        yield from added_unique(operation, dialect_name)
    elif isinstance(operation, ops.CreateForeignKeyOp):
        yield from added_foreign_key(operation, dialect_name)
    elif isinstance(operation, ops.CreateCheckConstraintOp):
        yield from added_check(operation, dialect_name)
    elif isinstance(operation, ops.ExecuteSQLOp):
        yield from data_update(operation, history, dialect)


def online_operation(operation, dialect, history):
    """An online operation (online/) is the safe form of its change, but for
    what its server cannot do online: NOT NULL before PostgreSQL 12 (and,
    with no backfill, a run that stops at the first NULL), a CHECK on
    MariaDB/MySQL (a table copy), and, on SQLite, the plain operation's
    dangers (it runs there as the plain operation)."""
    if isinstance(operation, SetNotNullOnlineOp):
        table, column = operation.table_name, operation.column_name
        filled = (table, column) in history.filled_columns
        version = postgresql.major_version(dialect)
        if dialect.name == "postgresql" and version is not None \
                and version < postgresql.CHECK_PROVES_NOT_NULL_SINCE:
            yield ("set-not-null", ERROR,
                   "op.set_not_null_online on {}.{}: PostgreSQL {} reads every row for SET "
                   "NOT NULL under an ACCESS EXCLUSIVE lock even after the validated "
                   "CHECK".format(table, column, version),
                   postgresql.not_null_safer(column, version))
        elif dialect.name == "sqlite":
            yield from set_not_null(table, column, dialect, filled)
        elif not filled:
            yield ("set-not-null", WARNING,
                   "op.set_not_null_online on {}.{} with no backfill before it: the upgrade "
                   "stops at that step if a row holds NULL (a rerun goes on once they are "
                   "filled)".format(table, column),
                   "fill them first: op.backfill({!r}, {{{!r}: value}}, where=\"{} IS "
                   "NULL\") (db migrate asks for the value and writes it)".format(
                       table, column, column))
    elif isinstance(operation, CreateCheckOnlineOp) and dialect.name == "mysql":
        yield from added_check(operation, dialect.name)


def added_column(operation, dialect_name):
    column = operation.column
    if column.nullable is False and column.server_default is None \
            and not column.primary_key:
        yield ("add-required-column", ERROR,
               "adds {}.{} NOT NULL without a server default: {}".format(
                   operation.table_name, column.name,
                   "MariaDB fills existing rows with an empty value and inserts by the "
                   "running code fail" if dialect_name == "mysql" else
                   "the upgrade fails on a table with rows, and inserts by the running "
                   "code fail"),
               "add it nullable (or with a server default), backfill, then set NOT NULL "
               "(db migrate writes this)")


def altered_column(operation, dialect, history):
    """A column renamed, given another type, or made NOT NULL."""
    table, column = operation.table_name, operation.column_name
    if operation.modify_name is not None:
        yield ("rename-column", ERROR,
               "renames {}.{} to {}; code still running during the deploy uses the old "
               "name and fails".format(table, column, operation.modify_name),
               SAFER["rename-column"])
    if operation.modify_type is not None:
        yield from changed_type(operation, dialect)
    if operation.modify_nullable is False and operation.existing_nullable is not False:
        yield from set_not_null(table, column, dialect, (table, column) in history.filled_columns)


def set_not_null(table, column, dialect, filled):
    """NOT NULL on an existing column, `filled` when an UPDATE before it (in
    this revision or an earlier one) fills the column."""
    if dialect.name == "postgresql":
        yield ("set-not-null", ERROR,
               "SET NOT NULL on {}.{} reads every row under an ACCESS EXCLUSIVE lock: reads "
               "and writes wait until it ends{}".format(
                   table, column, "" if filled else
                   "; with no backfill before it, it fails on any row that holds NULL"),
               ("" if filled else "fill the NULLs first (db migrate asks for the value and "
                                  "writes op.backfill); then ")
               + postgresql.not_null_safer(column, postgresql.major_version(dialect)))
    elif not filled and dialect.name == "mysql":
        yield ("set-not-null", WARNING,
               "makes {}.{} NOT NULL with no backfill before it: MariaDB/MySQL does it in "
               "place ({}: writes go on), but the upgrade fails if a row holds "
               "NULL".format(table, column, mysql.ONLINE),
               "check first that no row holds NULL (SELECT 1 FROM {} WHERE {} IS NULL LIMIT "  # noqa: S608 (advice)
               "1), or fill them in the same revision (db migrate asks for the value and "
               "writes op.backfill)".format(table, column))
    elif not filled:
        yield ("set-not-null", ERROR,
               "makes {}.{} NOT NULL with no backfill before it: the upgrade fails on any "
               "row that holds NULL".format(table, column),
               "fill the NULLs first, in the same revision (db migrate asks for the value "
               "and writes the UPDATE)")


def changed_type(operation, dialect):
    """A column's type changed: values removed from an enum, and what the
    server does to the table (nothing where the change is in place or in
    the catalog alone)."""
    table, column = operation.table_name, operation.column_name
    old, new = operation.existing_type, operation.modify_type
    old_values, new_values = enum_values(old), enum_values(new)
    enums = old_values is not None and new_values is not None
    if enums:
        removed = [value for value in old_values if value not in new_values]
        if removed:
            yield ("enum-value-removed", ERROR,
                   "removes {} from the enum of {}.{}: rows that hold it make the upgrade "
                   "fail, and the running code may still write it".format(
                       ", ".join(map(repr, removed)), table, column),
                   "stop writing the value, update the rows that hold it, then remove it "
                   "in a later release")
    safer = SAFER["change-column-type"]
    copied_online = False
    if dialect.name == "mysql":
        copies = mysql.type_change_copies(old, new, dialect)
        if copies is None:
            return
        copied_online = table_copy.tool_path() is not None
        if copied_online:
            effect = "{}, because {}; {}".format(mysql.COPIES, copies, COPIED_BY_THE_TOOL)
            safer = AUTOINC_ADVICE
        else:
            effect = "{}, because {}; {}".format(mysql.COPIES, copies,
                                                 mysql.WRITES_WAIT.format(table))
            safer = SAFER_ENUM_ON_MYSQL if enums else "{}; or run it with {}".format(
                safer, ONLINE_SCHEMA_CHANGE)
            safer += " (" + NO_TOOL + ")"
    elif enums:
        # Beyond a value removed, nothing to say: db migrate changes
        # PostgreSQL's enums with add_enum_value and sync_enum_values, and
        # SQLite's CHECK comes along in the batch copy.
        return
    elif dialect.name == "postgresql":
        if postgresql.changes_only_catalog(old, new):
            return
        effect = ("rewrites the table under an ACCESS EXCLUSIVE lock: reads and writes wait "
                  "until it ends")
    elif is_longer_string(old, new):
        return  # SQLite checks no VARCHAR's length: nothing to cut
    else:
        effect = "copies the table (batch mode)"
    narrowed = is_narrowed(old, new)
    if narrowed:
        effect += "; values that do not fit are cut or make it fail"
    blocks = dialect.name != "sqlite" and not copied_online
    yield ("change-column-type", ERROR if narrowed or blocks else WARNING,
           "{} the type of {}.{} ({} -> {}): {}".format(
               "narrows" if narrowed else "changes", table, column, type_name(old, dialect),
               type_name(new, dialect), effect),
           safer)


def added_index(operation, dialect_name):
    unique = bool(operation.unique)
    if dialect_name == "postgresql" and not operation.kw.get("postgresql_concurrently"):
        yield ("add-index", ERROR,
               "CREATE {}INDEX {} on {} blocks writes to the table while it is "
               "built".format("UNIQUE " if unique else "", operation.index_name,
                              operation.table_name),
               "create it with " + postgresql.CONCURRENTLY)
    elif dialect_name == "mysql" and unique:
        yield from added_unique(operation, dialect_name)


def added_unique(operation, dialect_name):
    table = operation.table_name
    if dialect_name == "postgresql":
        yield ("add-unique", ERROR,
               "a UNIQUE constraint on {} builds its index under an ACCESS EXCLUSIVE lock: "
               "reads and writes wait".format(table),
               postgresql.UNIQUE_USING_INDEX)
    elif dialect_name == "mysql":
        yield ("add-unique", WARNING,
               "a unique index on {} reads every row to build, and fails at the end if "
               "two rows (or rows written meanwhile) share a value".format(table),
               "remove duplicates first, and stop the code from writing new ones")


def added_foreign_key(operation, dialect_name):
    table = operation.source_table
    if dialect_name == "postgresql" and not not_valid(operation):
        yield ("add-foreign-key", ERROR,
               "a foreign key on {} is checked against every row while both tables are "
               "locked against writes".format(table),
               "add it with " + postgresql.NOT_VALID)
    elif dialect_name == "mysql":
        yield ("add-foreign-key", ERROR,
               "a foreign key added to {} while foreign_key_checks is on {} to check its "
               "rows; {}".format(table, mysql.COPIES, mysql.WRITES_WAIT.format(table)),
               "op.create_foreign_key_online(...) (db migrate writes it): added with "
               "foreign_key_checks=0 and {} (no copy: writes go on), then the rows whose key "
               "has no match in {} looked for with a query".format(
                   mysql.ONLINE, operation.referent_table))


def added_check(operation, dialect_name):
    table = operation.table_name
    if dialect_name == "postgresql" and not not_valid(operation):
        yield ("add-check", ERROR,
               "a CHECK on {} is checked against every row under an ACCESS EXCLUSIVE "
               "lock".format(table),
               "add it with " + postgresql.NOT_VALID)
    elif dialect_name == "mysql":
        yield ("add-check", ERROR,
               "a CHECK added to {} {} to check its rows, whatever the ALGORITHM clause; "
               "{}".format(table, mysql.COPIES, mysql.WRITES_WAIT.format(table)),
               "on a big table, enforce the rule in the code instead, or add the CHECK with "
               "{} or while writes can wait".format(ONLINE_SCHEMA_CHANGE))


def data_update(operation, history, dialect):
    """An UPDATE or DELETE: it fills columns (a backfill), and without a
    bound on the rows it touches, holds every row's lock until it ends."""
    table, columns, where = parse_data_statement(operation.sqltext, dialect)
    if table is None:
        return
    history.filled_columns.update((table, column) for column in columns)
    if where is None or not BOUNDED_WHERE.search(where):
        yield ("update-in-one-statement", WARNING,
               "one statement {} every matching row of {} in one transaction: on a big "
               "table it runs long and holds the rows' locks until it ends".format(
                   "updates" if columns else "deletes", table),
               "op.backfill({!r}, {{column: value}}, where=...): batches of ids, each "
               "committed on its own, with its progress, resumed where it stopped".format(
                   table))


def parse_data_statement(statement, dialect):
    """(table, columns set, WHERE text or None) of an UPDATE or DELETE; (None,
    (), None) for anything else."""
    if isinstance(statement, (sa.sql.Update, sa.sql.Delete)):
        text = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    elif isinstance(statement, str):
        text = statement
    elif isinstance(statement, sa.sql.elements.TextClause):
        text = statement.text
    else:
        return None, (), None
    found = TEXT_UPDATE.match(text)
    if found is None:
        return None, (), None
    table = (found.group("table") or found.group("deleted")).split(".")[-1]
    columns = set(SET_COLUMN.findall(found.group("set") or ""))
    return table, columns, found.group("where")


def removed_enum_values(rehearsal):
    """enum-value-removed for alembic-postgresql-enum's sync_enum_values: the
    values the revision's downgrade() syncs back that its upgrade() drops."""
    if not rehearsal.enum_values:
        return []
    before = downgrade_enum_values(rehearsal.path)
    findings = []
    for synced in rehearsal.enum_values:
        removed = [value for value in before.get(synced.enum_name, ())
                   if value not in synced.new_values]
        if removed:
            findings.append(Finding(
                rehearsal, synced.line, "enum-value-removed", ERROR,
                "removes {} from the enum type {}: rows that hold it make the upgrade fail, "
                "and the running code may still write it".format(
                    ", ".join(map(repr, removed)), synced.enum_name),
                "stop writing the value, update the rows that hold it, then remove it in a "
                "later release"))
    return findings


def downgrade_enum_values(path):
    """{enum name: values} of the op.sync_enum_values calls in the file's
    downgrade(), as db migrate writes them (literal arguments)."""
    with open(path, "rb") as source:
        tree = ast.parse(source.read())
    values = {}
    for function in tree.body:
        if not (isinstance(function, ast.FunctionDef) and function.name.startswith("downgrade")):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call) \
                    and getattr(node.func, "attr", None) == "sync_enum_values":
                arguments = {keyword.arg: keyword.value for keyword in node.keywords}
                try:
                    name = ast.literal_eval(arguments["enum_name"])
                    values[name] = list(ast.literal_eval(arguments["new_values"]))
                except (KeyError, ValueError):
                    continue
    return values


def not_valid(operation):
    return bool(operation.kw.get("postgresql_not_valid"))
