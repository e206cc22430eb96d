"""op.expand_column and op.contract_column on PostgreSQL: a change of a
column's type or name that the running release would not survive, or that
would rewrite the table under an ACCESS EXCLUSIVE lock, made in two halves
around the deploy. (Other servers get the plain change: sqlite.py.)

Expand, before the deploy (the old release keeps running):

- the new column beside the old one, nullable: the shadow `<column>_new` of
  the new type, or the column `new_name`; for an enum type losing values,
  a new enum type `<type>_new` first (once, for every column sharing it);
- a trigger function and a BEFORE INSERT OR UPDATE trigger,
  `<table>_<column>_sync`, keeping the new column in step: the shadow is
  always the old column cast to the new type; a renamed column is kept in
  step both ways (an INSERT fills whichever column it left out, an UPDATE
  copies the one it changed), as both releases write it;
- the rows there before the trigger, backfilled in batches of the primary
  key, each committed on its own (op.backfill's machinery); an enum value
  the new type drops, still held by rows, stops it in one line;
- NOT NULL as a CHECK (<new column> IS NOT NULL) NOT VALID, validated;
- each index of the old column (its primary key and unique constraints
  as unique indexes) built again CONCURRENTLY on the new column, named
  `<index>_new` (for a rename: the old column's name in the index's name
  replaced by the new one); the old column's own foreign keys too.

Contract, after the deploy, in ONE transaction under the session's lock
timeout, tried again as briefly_locking does: the trigger dropped, the
foreign keys of other tables pointing at the column dropped, the sequence
given to the shadow, the old column dropped (a catalog change), the shadow
renamed to the column, SET NOT NULL (instant: the validated CHECK), the
primary key and unique constraints added USING their indexes, the copies
renamed to the original names, the DEFAULT moved, a dropped enum type's
new one renamed to its name, the sequence made as wide as the column, and
the foreign keys added again NOT VALID. After the commit, they are
validated and the trigger function dropped.

Every step reads the catalog first, so that a rerun after a crash goes on:
the shadow, the trigger, a CHECK or foreign key not yet validated, an
index left INVALID by a cancelled build (dropped and built again), a
backfill (from the key it reached, resume.py). Contract is done when the
shadow is gone; what follows its commit is done again if missing.

Undone (the downgrades): expand's undo drops the trigger, the function, the
shadow with its indexes and constraints, and the new enum type when no
column uses it. Contract's undo goes back to the expanded state online: an
expand towards the old type (shadow `<column>_old`) and its swap, then the
expand of the new type again; a rename's, the expand in the other
direction.

Renames of a primary key or of a column other tables' foreign keys point at
are refused; identity columns too. Indexes on an expression of the column,
or with a WHERE, are not copied: a warning names them (the contract drops
them with the old column). In a --sql script the catalog cannot be read:
the statements that need it are left out, with a comment saying so.
"""
import logging

import sqlalchemy as sa
from alembic.operations import ops
from alembic.operations.schemaobj import SchemaObjects
from sqlalchemy.schema import AddConstraint
from sqlalchemy.sql.elements import conv

from .backfill import BackfillOp, Batches
from .failures import RERUN, StepRefused
from .postgresql import (
    MISSING,
    _add_not_valid_then_validate,
    _build_index,
    _constraint_state,
    briefly_locking,
    fitted,
    not_null_check_name,
)
from .statements import compiled, execute, qualified, quote

logger = logging.getLogger("alembic.runtime.migration")
NEW, OLD = "new", "old"
INTEGER_TYPES = ("smallint", "integer", "bigint")
# pg_constraint's codes of a foreign key's actions and MATCH.
ACTIONS = {"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
MATCH_FULL = "f"

TABLE = sa.text(
    "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relname = :table AND n.nspname = COALESCE(:schema, current_schema())")
COLUMN = sa.text(
    "SELECT a.attnum, a.attnotnull AS not_null, a.atttypid AS type_oid, "
    "format_type(a.atttypid, a.atttypmod) AS type_sql, t.typname AS type_name, "
    "t.typtype = 'e' AS is_enum, a.attidentity <> '' AS identity, "
    "pg_get_expr(d.adbin, d.adrelid) AS default_sql "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attrelid = :table AND a.attname = :column AND a.attnum > 0 "
    "AND NOT a.attisdropped")
NAMES_OF_KEYS = ("ARRAY(SELECT a.attname FROM unnest({keys}) WITH ORDINALITY AS k(num, n) "
                 "JOIN pg_attribute a ON a.attrelid = {table} AND a.attnum = k.num "
                 "ORDER BY k.n)")
# The indexes of the column: on it, or on an expression of it.
# A fixed query (the names are bound parameters).
INDEXES = sa.text(
    "SELECT ic.relname AS name, i.indisunique AS is_unique, am.amname AS method, "  # noqa: S608
    "i.indexprs IS NOT NULL OR i.indpred IS NOT NULL AS derived, "
    "con.conname AS constraint_name, con.contype AS constraint_type, "
    + NAMES_OF_KEYS.format(keys="i.indkey::int2[]", table="i.indrelid") + " AS columns "
    "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_am am ON am.oid = ic.relam "
    "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid "
    "AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u') "
    "WHERE i.indrelid = :table AND (:attnum = ANY(i.indkey::int2[]) OR i.indexrelid IN ("
    "SELECT objid FROM pg_depend WHERE classid = 'pg_class'::regclass "
    "AND refclassid = 'pg_class'::regclass AND refobjid = :table "
    "AND refobjsubid = :attnum)) ORDER BY ic.relname")
FOREIGN_KEYS = (
    "SELECT con.conname AS name, con.convalidated AS valid, "
    "src.relname AS source, srcn.nspname AS source_schema, "
    + NAMES_OF_KEYS.format(keys="con.conkey", table="con.conrelid") + " AS columns, "
    "ref.relname AS referent, refn.nspname AS referent_schema, "
    + NAMES_OF_KEYS.format(keys="con.confkey", table="con.confrelid") + " AS referent_columns, "
    "con.confupdtype AS onupdate, con.confdeltype AS ondelete, "
    "con.confmatchtype AS match, con.condeferrable AS deferrable, "
    "con.condeferred AS deferred "
    "FROM pg_constraint con JOIN pg_class src ON src.oid = con.conrelid "
    "JOIN pg_namespace srcn ON srcn.oid = src.relnamespace "
    "JOIN pg_class ref ON ref.oid = con.confrelid "
    "JOIN pg_namespace refn ON refn.oid = ref.relnamespace "
    "WHERE con.contype = 'f' AND con.{side}relid = :table "
    "AND :attnum = ANY(con.{side}key) ORDER BY con.conname")
# The column's own foreign keys, and the other tables' pointing at it.
OUTGOING = sa.text(FOREIGN_KEYS.format(side="con"))
INCOMING = sa.text(FOREIGN_KEYS.format(side="conf"))
PRIMARY_KEY = sa.text(
    "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type_sql "
    "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
    "AND a.attnum = ANY(i.indkey::int2[]) WHERE i.indrelid = :table AND i.indisprimary")
SEQUENCE = sa.text(
    "SELECT s.seqrelid::regclass::text AS name, format_type(s.seqtypid, NULL) AS type_sql "
    "FROM pg_sequence s WHERE s.seqrelid = "
    "to_regclass(pg_get_serial_sequence(:table, :column))")
TRIGGER = sa.text("SELECT 1 FROM pg_trigger WHERE tgrelid = :table AND tgname = :name")
TYPE = sa.text(
    "SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE t.typname = :name AND n.nspname = COALESCE(:schema, current_schema())")
ENUM_LABELS = sa.text("SELECT array_agg(enumlabel::text ORDER BY enumsortorder) FROM pg_enum "
                      "WHERE enumtypid = :type")
TYPE_OID = sa.text("SELECT to_regtype(:sql)::oid")
COLUMNS_OF_TYPE = sa.text(
    "SELECT COUNT(*) FROM pg_attribute WHERE atttypid = :type AND attnum > 0 "
    "AND NOT attisdropped")


class Change:
    """One half's work on one column: `column` (the one the old release
    reads) and `new` (the shadow or the renamed column), and the names and
    SQL of everything around them. A type change has `type_` (and, for an
    enum, `enum_labels` and the type's temporary name `new_type`); a
    rename has neither."""

    def __init__(self, operations, operation, column, new, type_=None, suffix=NEW):
        self.operations = operations
        self.table = operation.table_name
        self.schema = operation.schema
        self.column = column
        self.new = new
        self.type_ = type_
        self.suffix = suffix
        self.existing_type = operation.existing_type
        # One name for the trigger and its function, whichever way the
        # change goes, so that every undo finds them.
        self.sync = fitted("{}_{}_sync".format(self.table, operation.column_name))
        self.new_type = self.enum_labels = self.enum_name = None
        if isinstance(type_, sa.Enum):
            self.enum_labels = list(type_.enums)
            self.enum_name = type_.name
            self.new_type = type_.name
            existing = operation.existing_type if suffix == NEW else operation.type_
            if isinstance(existing, sa.Enum) and existing.name == type_.name:
                self.new_type = fitted("{}_{}".format(type_.name, suffix))

    @property
    def is_rename(self):
        return self.type_ is None

    @property
    def table_sql(self):
        return qualified(self.operations, self.table, self.schema)

    def quoted(self, name):
        return quote(self.operations, name)

    def type_sql(self, column=None):
        """The new column's type, as SQL; for a rename, the column's own."""
        if self.new_type is not None:
            return qualified(self.operations, self.new_type, self.type_.schema)
        if self.type_ is not None:
            return compiled(self.operations, self.type_)
        if column is not None:
            return column.type_sql
        if self.existing_type is not None:
            return compiled(self.operations, self.existing_type)
        raise ValueError("renaming {}.{} in a --sql script needs existing_type, the "
                         "column's type".format(self.table, self.column))

    def cast(self, source):
        """`source` (the old column, as SQL) as the new column's value."""
        if self.is_rename:
            return source
        if self.enum_labels is not None:
            source = source + "::text"
        return "{}::{}".format(source, self.type_sql())

    def copy_name(self, name):
        """The name of the new column's copy of the index or constraint
        `name` of the old column."""
        if not self.is_rename:
            return fitted("{}_{}".format(name, self.suffix))
        head, found, tail = name.rpartition(self.column)
        if not found:
            return fitted("{}_{}".format(name, self.new))
        return fitted(head + self.new + tail)

    def not_null_check(self):
        return not_null_check_name(self.table, self.new)


def type_change(operations, operation, suffix=NEW):
    """The Change of `operation`'s type; with suffix OLD, back to the
    existing type (the undo of a contract)."""
    column = operation.column_name
    if suffix == NEW:
        return Change(operations, operation, column, fitted(column + "_new"), operation.type_)
    return Change(operations, operation, column, fitted(column + "_old"),
                  operation.existing_type, OLD)


def expand_column(operations, operation):
    """The expand (or, undone, its removal), in an autocommit block."""
    with operations.get_context().autocommit_block():
        if operation.new_name:
            forward = Change(operations, operation, operation.column_name, operation.new_name)
        else:
            forward = type_change(operations, operation)
        (retract if operation.undo else expand)(forward)


def contract_column(operations, operation):
    """The contract (or, undone, the way back to the expanded state), in an
    autocommit block."""
    with operations.get_context().autocommit_block():
        if operation.new_name:
            if operation.undo:
                expand(Change(operations, operation, operation.new_name,
                              operation.column_name))
            else:
                contract(Change(operations, operation, operation.column_name,
                                operation.new_name))
        elif operation.undo:
            expand_again(operations, operation)
        else:
            contract(type_change(operations, operation))


def expand(change, resuming=True):
    """Add the new column beside the old one, keep it in step, fill it,
    prepare its NOT NULL, copy the old column's indexes and foreign keys
    onto it; each part skipped when the catalog shows it done. Without
    `resuming`, the backfill starts from the first key (the rows done are
    left alone by its WHERE)."""
    table = Catalog(change)
    column = table.column(change.column)
    if not table.offline and column is None:
        raise ValueError("{}.{} does not exist".format(change.table, change.column))
    refuse_unsupported(change, table, column)
    # Before anything is added, so that a refusal leaves the table as it
    # was; and again once the trigger guards new writes.
    refuse_dropped_values(change, table)
    key = table.backfill_key(change)
    if change.enum_labels is not None and not table.has_type(change.new_type):
        execute(change.operations, "CREATE TYPE {} AS ENUM ({})".format(
            change.type_sql(), ", ".join(_literal(label) for label in change.enum_labels)))
    if table.column(change.new) is None:
        briefly_locking(change.operations, "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}"
                        .format(change.table_sql, change.quoted(change.new),
                                change.type_sql(column)))
    execute(change.operations, sync_function(change))
    if not table.has_trigger(change.sync):
        briefly_locking(change.operations, "CREATE TRIGGER {} BEFORE INSERT OR UPDATE ON {} "
                        "FOR EACH ROW EXECUTE PROCEDURE {}()".format(
                            change.quoted(change.sync), change.table_sql,
                            qualified(change.operations, change.sync, change.schema)))
    refuse_dropped_values(change, table)
    backfill(change, key, resuming)
    if column is not None and column.not_null:
        condition = sa.column(change.new).isnot(None)
        check = SchemaObjects(change.operations.migration_context).check_constraint(
            conv(change.not_null_check()), change.table, condition, schema=change.schema)
        _add_not_valid_then_validate(change.operations, check, change.table, change.schema,
                                     "{}.{} holds NULL in some rows".format(change.table,
                                                                            change.new))
    copy_indexes(change, table)
    copy_foreign_keys(change, table)
    table.say_what_is_left_out("expand_column")


def retract(change):
    """Drop what the expand added: the trigger, its function, the new
    column with its indexes and constraints, the new enum type when no
    column uses it any longer."""
    table = Catalog(change)
    statements = ["DROP TRIGGER IF EXISTS {} ON {}".format(change.quoted(change.sync),
                                                           change.table_sql)]
    if change.is_rename:
        statements += renamed_back(change, table)
    statements.append("ALTER TABLE {} DROP COLUMN IF EXISTS {}".format(
        change.table_sql, change.quoted(change.new)))
    briefly_locking(change.operations, *statements)
    drop_function(change)
    if change.new_type is not None and change.new_type != change.enum_name \
            and table.columns_of_type(change.new_type) == 0:
        execute(change.operations, "DROP TYPE IF EXISTS {}".format(change.type_sql()))


def renamed_back(change, table):
    """A rename's column that contract's undo added back (nullable, without
    its DEFAULT, which would hide which column an INSERT wrote) gets them
    again, from its CHECK and from the new column."""
    statements = []
    alter = "ALTER TABLE {} ALTER COLUMN {} ".format(change.table_sql,
                                                     change.quoted(change.column))
    check = not_null_check_name(change.table, change.column)
    if _constraint_state(change.operations, check, change.table, change.schema) != MISSING:
        statements += [alter + "SET NOT NULL", "ALTER TABLE {} DROP CONSTRAINT {}".format(
            change.table_sql, change.quoted(check))]
    column, new = table.column(change.column), table.column(change.new)
    if column is not None and column.default_sql is None and new is not None \
            and new.default_sql is not None:
        statements.append(alter + "SET DEFAULT " + new.default_sql)
    return statements


def contract(change):
    """Swap the new column in for the old one in one transaction, unless
    done; then validate the foreign keys added again and drop the trigger
    function."""
    table = Catalog(change)
    if table.offline or table.column(change.column if change.is_rename else change.new):
        briefly_locking(change.operations, *swap(change, table))
    elif not table.is_contracted():
        raise ValueError("{}.{} has not been expanded: run the revision with expand_column "
                         "first".format(change.table, change.column))
    for key in table.incoming(change.column):
        if not key.valid:
            validate_foreign_key(change, key)
    drop_function(change)
    table.say_what_is_left_out("contract_column")


def expand_again(operations, operation):
    """Contract's undo for a type: from the contracted column, back to the
    expanded state: an expand towards the existing type (shadow
    <column>_old) swapped in as contract does, then the expand of the new
    type again. A rerun goes on from the part the catalog shows."""
    forward = type_change(operations, operation)
    if Catalog(forward).column(forward.new) is None:
        back = type_change(operations, operation, OLD)
        # Backfills of the two expands share the log's one resume key: none
        # resumes from it, and each skips the rows done already.
        expand(back, resuming=False)
        contract(back)
    expand(forward, resuming=False)


def refuse_unsupported(change, table, column):
    """What the expand cannot do online: say so before doing anything."""
    if column is None:
        return
    what = None
    if column.identity:
        what = "it is an identity column"
    elif change.is_rename and change.column in [name for name, _ in
                                                 table.primary_key_columns()]:
        what = "renaming a primary key column"
    elif change.is_rename and table.incoming(change.column):
        what = "other tables' foreign keys point at it"
    if what:
        raise ValueError("{}.{} cannot be changed by expand_column ({}): change it with "
                         "op.alter_column".format(change.table, change.column, what))


def refuse_dropped_values(change, table):
    """Rows holding enum values the new type does not have stop the expand,
    in one line naming them."""
    if change.enum_labels is None or table.offline:
        return
    column = sa.column(change.column)
    held = table.bind.execute(
        sa.select(sa.cast(column, sa.Text), sa.func.count())
        .select_from(sa.table(change.table, column, schema=change.schema))
        .where(sa.cast(column, sa.Text).notin_(change.enum_labels))
        .group_by(sa.cast(column, sa.Text)).order_by(sa.cast(column, sa.Text))).fetchall()
    if held:
        raise StepRefused("{}.{} holds {}, which the type {} drops: change those rows, {}"
                          .format(change.table, change.column, ", ".join(
                              "{} ({} row{})".format(_literal(value), count,
                                                     "" if count == 1 else "s")
                              for value, count in held), change.enum_name, RERUN))


def backfill(change, key, resuming):
    """The new column of the rows there before the trigger, in batches of
    the primary key, each committed on its own (one UPDATE in a --sql
    script)."""
    value = change.cast(change.quoted(change.column))
    operation = BackfillOp(change.table, {change.new: sa.text(value)},
                           where="{} IS DISTINCT FROM {}".format(change.quoted(change.new),
                                                                value),
                           key=key, schema=change.schema)
    if change.operations.migration_context.as_sql:
        change.operations.impl.execute(operation.statement())
        return
    batches = Batches(change.operations, operation, own_transactions=True)
    if not resuming:
        batches.step = None  # neither resumes from the log's key nor records one
    batches.run()


def sync_function(change):
    """CREATE OR REPLACE FUNCTION of the trigger keeping the new column in
    step."""
    old, new = "NEW." + change.quoted(change.column), "NEW." + change.quoted(change.new)
    if change.is_rename:
        before = "OLD." + change.quoted(change.new)
        body = ("IF TG_OP = 'INSERT' AND {new} IS NULL THEN {new} := {old}; "
                "ELSIF TG_OP = 'UPDATE' AND {new} IS NOT DISTINCT FROM {before} THEN "
                "{new} := {old}; ELSE {old} := {new}; END IF;").format(
                    new=new, old=old, before=before)
    else:
        body = "{} := {};".format(new, change.cast(old))
    return ("CREATE OR REPLACE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN {} RETURN NEW; END $$").format(
                qualified(change.operations, change.sync, change.schema), body)


def copy_indexes(change, table):
    """Each index of the old column built CONCURRENTLY on the new one (a
    primary key or unique constraint as a unique index; for a rename, a
    unique constraint too, USING its index)."""
    for index in table.indexes(change.column):
        if index.derived:
            logger.warning("index %s is on an expression of %s.%s or has a WHERE: it is not "
                           "copied, and contract_column drops it with the column; create it "
                           "again on %s", index.name, change.table, change.column, change.new)
            continue
        name = change.copy_name(index.name)
        columns = [change.new if c == change.column else c for c in index.columns]
        kw = {} if index.method == "btree" else {"postgresql_using": index.method}
        _build_index(change.operations, ops.CreateIndexOp(
            name, change.table, columns, schema=change.schema, unique=index.is_unique, **kw))
        if change.is_rename and index.constraint_type == "u" and \
                _constraint_state(change.operations, name, change.table,
                                  change.schema) == MISSING:
            briefly_locking(change.operations, "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE "
                            "USING INDEX {}".format(change.table_sql, change.quoted(name),
                                                    change.quoted(name)))


def copy_foreign_keys(change, table):
    """The old column's own foreign keys on the new one: NOT VALID, then
    VALIDATE."""
    for key in table.outgoing(change.column):
        copy = key.constraint(change, change.copy_name(key.name),
                              {change.column: change.new})
        _add_not_valid_then_validate(
            change.operations, copy, change.table, change.schema,
            "{}.{} holds values that {} does not".format(change.table, change.new,
                                                         key.referent))


def swap(change, table):
    """The statements of contract's one transaction, from what the catalog
    shows of the old column (all of them, blind, in a --sql script)."""
    statements = ["DROP TRIGGER IF EXISTS {} ON {}".format(change.quoted(change.sync),
                                                           change.table_sql)]
    column = table.column(change.column)
    incoming = table.incoming(change.column)
    statements += ["ALTER TABLE {} DROP CONSTRAINT {}".format(
        qualified(change.operations, key.source, key.source_schema),
        change.quoted(key.name)) for key in incoming]
    sequence = table.sequence(change.column)
    if sequence is not None:  # or the column's drop drops it
        statements.append("ALTER SEQUENCE {} OWNED BY {}.{}".format(
            sequence.name, change.table_sql, change.quoted(change.new)))
    final = change.new if change.is_rename else change.column
    statements.append("ALTER TABLE {} DROP COLUMN {}".format(change.table_sql,
                                                             change.quoted(change.column)))
    if not change.is_rename:
        statements.append("ALTER TABLE {} RENAME COLUMN {} TO {}".format(
            change.table_sql, change.quoted(change.new), change.quoted(change.column)))
    alter_final = "ALTER TABLE {} ALTER COLUMN {} ".format(change.table_sql,
                                                           change.quoted(final))
    if column is not None and column.not_null:
        statements += [alter_final + "SET NOT NULL",
                       "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}".format(
                           change.table_sql, change.quoted(change.not_null_check()))]
    if not change.is_rename:
        statements += promote_copies(change, table)
        statements += enum_type_swap(change, table, column)
    default = table.default_of(change, column)
    if default is not None:
        statements.append(alter_final + "SET DEFAULT " + default)
    new_column = table.column(change.new)
    if sequence is not None and new_column is not None and \
            new_column.type_sql in INTEGER_TYPES and new_column.type_sql != sequence.type_sql:
        statements.append("ALTER SEQUENCE {} AS {}".format(sequence.name,
                                                          new_column.type_sql))
    statements += [compiled(change.operations, AddConstraint(key.constraint(change, key.name)))
                   + " NOT VALID" for key in incoming]
    return statements


def promote_copies(change, table):
    """The copies of a type change take the originals' places: a primary
    key or unique constraint added USING its index, an index or foreign key
    renamed to the original's name."""
    statements = []
    for index in table.indexes(change.column):
        if index.derived:
            continue
        copy = change.quoted(change.copy_name(index.name))
        if index.constraint_type in ("p", "u"):
            statements.append("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}".format(
                change.table_sql, change.quoted(index.constraint_name),
                "PRIMARY KEY" if index.constraint_type == "p" else "UNIQUE", copy))
        else:
            statements.append("ALTER INDEX {} RENAME TO {}".format(
                qualified(change.operations, change.copy_name(index.name), change.schema),
                change.quoted(index.name)))
    statements += ["ALTER TABLE {} RENAME CONSTRAINT {} TO {}".format(
        change.table_sql, change.quoted(change.copy_name(key.name)), change.quoted(key.name))
        for key in table.outgoing(change.column)]
    return statements


def enum_type_swap(change, table, column):
    """Once no other column uses the enum type that lost values, it is
    dropped, and the new one takes its name."""
    if change.new_type is None or change.new_type == change.enum_name:
        return []
    if not table.offline and (column is None or not column.is_enum or
                              table.columns_of_type(column.type_name) > 1):
        return []
    name = qualified(change.operations, change.enum_name, change.type_.schema)
    return ["DROP TYPE {}".format(name),
            "ALTER TYPE {} RENAME TO {}".format(change.type_sql(),
                                                change.quoted(change.enum_name))]


def validate_foreign_key(change, key):
    execute(change.operations, "ALTER TABLE {} VALIDATE CONSTRAINT {}".format(
        qualified(change.operations, key.source, key.source_schema), change.quoted(key.name)))


def drop_function(change):
    execute(change.operations, "DROP FUNCTION IF EXISTS {}()".format(
        qualified(change.operations, change.sync, change.schema)))


def _literal(value):
    return "'{}'".format(value.replace("'", "''"))


class ForeignKey:
    """A foreign key as the catalog shows it."""

    def __init__(self, row):
        for name, value in row._mapping.items():
            setattr(self, name, value)

    def constraint(self, change, name, renamed=None):
        """The key as a SQLAlchemy constraint named `name`, its columns
        renamed by `renamed` ({old: new})."""
        renamed = renamed or {}
        return SchemaObjects(change.operations.migration_context).foreign_key_constraint(
            conv(name), self.source, self.referent,
            [renamed.get(c, c) for c in self.columns], list(self.referent_columns),
            onupdate=ACTIONS.get(self.onupdate), ondelete=ACTIONS.get(self.ondelete),
            deferrable=self.deferrable or None,
            initially="DEFERRED" if self.deferred else None,
            match="FULL" if self.match == MATCH_FULL else None,
            source_schema=self.source_schema, referent_schema=self.referent_schema)


class Catalog:
    """What PostgreSQL's catalog says of the change's table; in a --sql
    script (offline), nothing: every reader answers as for a table that
    has none of what the change adds, and notes what it could not read."""

    def __init__(self, change):
        self.change = change
        self.offline = change.operations.migration_context.as_sql
        self.bind = None if self.offline else change.operations.get_bind()
        self.oid = None if self.offline else self.bind.execute(
            TABLE, {"table": change.table, "schema": change.schema}).scalar()
        if not self.offline and self.oid is None:
            raise ValueError("table {} does not exist".format(change.table))

    def _rows(self, query, **parameters):
        if self.offline:
            return []
        return self.bind.execute(query, dict(parameters, table=self.oid)).fetchall()

    def column(self, name):
        rows = self._rows(COLUMN, column=name)
        return rows[0] if rows else None

    def _attnum(self, name):
        column = self.column(name)
        return column.attnum if column is not None else None

    def indexes(self, name):
        return self._rows(INDEXES, attnum=self._attnum(name))

    def outgoing(self, name):
        return [ForeignKey(row) for row in self._rows(OUTGOING, attnum=self._attnum(name))]

    def incoming(self, name):
        return [ForeignKey(row) for row in self._rows(INCOMING, attnum=self._attnum(name))]

    def primary_key_columns(self):
        return [tuple(row) for row in self._rows(PRIMARY_KEY)]

    def sequence(self, name):
        if self.offline:
            return None
        return self.bind.execute(SEQUENCE, {"table": self.change.table_sql,
                                            "column": name}).first()

    def has_trigger(self, name):
        return bool(self._rows(TRIGGER, name=name))

    def has_type(self, name):
        return not self.offline and self.bind.execute(
            TYPE, {"name": name, "schema": self.change.type_.schema}).scalar() is not None

    def columns_of_type(self, name):
        """How many columns use the type `name`."""
        if self.offline:
            return 0
        oid = self.bind.execute(TYPE, {"name": name,
                                       "schema": self.change.type_.schema}).scalar()
        return 0 if oid is None else self.bind.execute(COLUMNS_OF_TYPE, {"type": oid}).scalar()

    def backfill_key(self, change):
        """The integer primary key the backfill goes by."""
        if self.offline:
            return "id"
        key = self.primary_key_columns()
        if len(key) != 1 or key[0][1] not in INTEGER_TYPES:
            raise ValueError("expand_column fills {}.{} in ranges of an integer primary key, "
                             "and {} has none".format(change.table, change.new, change.table))
        return key[0][0]

    def default_of(self, change, column):
        """The old column's DEFAULT, as SQL for the new column: an enum's as
        its label (the expression names the old type)."""
        if column is None or column.default_sql is None:
            return None
        if not column.is_enum or change.is_rename:
            return column.default_sql
        label = self.bind.execute(sa.text("SELECT ({})::text".format(
            column.default_sql.replace(":", "\\:")))).scalar()
        return _literal(label)

    def is_contracted(self):
        """Whether the contract is done: the renamed column alone, or the
        column of the new type (an enum with the new labels)."""
        column = self.column(self.change.new if self.change.is_rename else self.change.column)
        if column is None or self.change.is_rename:
            return column is not None
        if self.change.enum_labels is not None:
            return self.bind.execute(ENUM_LABELS, {"type": column.type_oid}).scalar() == \
                self.change.enum_labels
        return self.bind.execute(TYPE_OID, {"sql": self.change.type_sql()}).scalar() == \
            column.type_oid

    def say_what_is_left_out(self, name):
        """In a --sql script, a comment: what the catalog would have told."""
        if self.offline:
            self.change.operations.impl.static_output(
                "-- {} of {}.{}: NOT NULL, indexes, constraints, foreign keys and the "
                "sequence are read from the catalog, which a --sql script cannot read; "
                "they are left out".format(name, self.change.table, self.change.column))
