"""What a change of a column's type does to its values, whatever the
dialect: every value still fits (a longer VARCHAR), some may not (narrowed),
an enum's values; and a type's name as the database's DDL writes it."""
import sqlalchemy as sa

# The integer types from the smallest to the largest.
INTEGER_SIZES = (sa.SmallInteger, sa.Integer, sa.BigInteger)


def is_varchar(type_):
    """A VARCHAR: sa.String and sa.Unicode themselves (every dialect writes
    them as VARCHAR), or any dialect's VARCHAR type; not CHAR, TEXT or an
    enum, which are String types too."""
    return type(type_) in (sa.String, sa.Unicode) or isinstance(type_, sa.VARCHAR)


def is_text(type_):
    return isinstance(type_, sa.Text)


def is_longer_string(old, new):
    """A VARCHAR made longer or unbounded, or VARCHAR to TEXT (or back to a
    VARCHAR without a length): every value fits as it is."""
    if not all(is_varchar(type_) or is_text(type_) for type_ in (old, new)):
        return False
    old_limit = old.length if is_varchar(old) else None
    new_limit = new.length if is_varchar(new) else None
    return new_limit is None or (old_limit is not None and new_limit >= old_limit)


def is_narrowed(old, new):
    """The new type holds fewer values than the old one: some may be cut or
    refused. (Values removed from an enum are a rule of their own.)"""
    if enum_values(old) is not None and enum_values(new) is not None:
        return False
    if isinstance(old, sa.String) and isinstance(new, sa.String):
        return new.length is not None and (old.length is None or new.length < old.length)
    if isinstance(old, INTEGER_SIZES) and isinstance(new, INTEGER_SIZES):
        return integer_size(new) < integer_size(old)
    if isinstance(old, sa.Numeric) and isinstance(new, sa.Numeric):
        return (new.precision or 0) < (old.precision or 0) or (new.scale or 0) < (old.scale or 0)
    return old is not None and isinstance(new, (sa.Integer, sa.Boolean)) \
        and isinstance(old, (sa.String, sa.Numeric))


def integer_size(type_):
    """0, 1 or 2: SMALLINT, INTEGER or BIGINT (subclasses first: both are
    Integer types)."""
    for rank, size in ((0, sa.SmallInteger), (2, sa.BigInteger)):
        if isinstance(type_, size):
            return rank
    return 1


def enum_values(type_):
    """An Enum type's values in their order; None for any other type."""
    return list(type_.enums) if isinstance(type_, sa.Enum) else None


def type_name(type_, dialect):
    """The type as `dialect`'s DDL writes it (VARCHAR(200), VARCHAR(100)
    CHARACTER SET latin1); "unknown" when the revision does not say."""
    if type_ is None:
        return "unknown"
    try:
        return str(type_.compile(dialect=dialect))
    except sa.exc.SQLAlchemyError:  # a type this dialect cannot write
        return repr(type_)
