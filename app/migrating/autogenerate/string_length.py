"""A String column without a length: SQLite and PostgreSQL create it, but
MariaDB and MySQL cannot (their VARCHAR needs a length), so the revision
fails there. Against MariaDB/MySQL, db migrate refuses and writes nothing;
elsewhere it writes the revision and warns, naming the column. On
MariaDB/MySQL, such a column in the model is a type change (so that
alter_column reaches the refusal), found before Alembic's own comparison,
which fails compiling it as a VARCHAR."""
import sqlalchemy as sa
from alembic.operations import ops
from alembic.util import CommandError

from .questioner import NO_REVISION, warn

# String's subclasses that need no length on MariaDB/MySQL: TEXT, ENUM,
# CHAR (one character).
NEEDS_NO_LENGTH = (sa.Text, sa.Enum, sa.CHAR)


def refuse_or_warn(upgrade_ops, dialect):
    """Refuse (CommandError) on MariaDB/MySQL, else warn, when `upgrade_ops`
    create, add or change the type of a column to a String without a length."""
    columns = lengthless_columns(upgrade_ops)
    if not columns:
        return
    if dialect.name == "mysql":
        raise CommandError(
            "{} {} without a length, which MariaDB and MySQL cannot create (VARCHAR "
            "needs one); give {} one, e.g. db.String(80), then run db migrate again; "
            "{}".format(", ".join(columns),
                        "is a String" if len(columns) == 1 else "are Strings",
                        "it" if len(columns) == 1 else "each", NO_REVISION))
    for column in columns:
        warn("{} is a String without a length: the revision runs on {}, but fails on "
             "MariaDB and MySQL (VARCHAR needs one); give it one, e.g. "
             "db.String(80)".format(column, dialect.name))


def compare_type_option(dialect_name, compare_type):
    """The compare_type to configure autogenerate with on `dialect_name`: the
    app's `compare_type` (True, False or a callable), except that on
    MariaDB/MySQL a model String without a length is a change."""
    if dialect_name != "mysql" or compare_type is False:
        return compare_type

    def compare(context, inspected_column, metadata_column, inspected_type, metadata_type):
        if lacks_length(metadata_type):
            return True
        if callable(compare_type):
            return compare_type(context, inspected_column, metadata_column, inspected_type,
                                metadata_type)
        return None  # alembic's own comparison

    return compare


def lengthless_columns(upgrade_ops):
    """"table.column" of each column `upgrade_ops` create, add, or change the
    type of to a String without a length."""
    found = []
    for operation in each_operation(upgrade_ops.ops):
        if isinstance(operation, ops.CreateTableOp):
            found += [(operation.table_name, column.name) for column in operation.columns
                      if isinstance(column, sa.Column) and lacks_length(column.type)]
        elif isinstance(operation, ops.AddColumnOp) and lacks_length(operation.column.type):
            found.append((operation.table_name, operation.column.name))
        elif isinstance(operation, ops.AlterColumnOp) and operation.modify_type is not None \
                and lacks_length(operation.modify_type):
            found.append((operation.table_name, operation.column_name))
    return ["{}.{}".format(table, column) for table, column in found]


def each_operation(operations):
    """The operations of `operations`, those inside a table's (or a batch's)
    container included."""
    for operation in operations:
        if isinstance(operation, ops.OpContainer):
            yield from each_operation(operation.ops)
        else:
            yield operation


def lacks_length(type_):
    """Whether `type_` (or the type a TypeDecorator stores as) is a VARCHAR
    without a length."""
    type_ = getattr(type_, "impl", type_)
    return (isinstance(type_, sa.String) and not isinstance(type_, NEEDS_NO_LENGTH)
            and type_.length is None)
