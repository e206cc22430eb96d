"""What InnoDB on MariaDB and MySQL does with the ALTERs the built-in rules
see: in place (ALGORITHM=INPLACE or INSTANT with LOCK=NONE: the app's
writes go on) or by copying the table (ALGORITHM=COPY: every write to the
table waits until the copy ends).

In place: a longer VARCHAR whose values keep the size of their length
prefix, values appended at the end of an ENUM, NOT NULL (it fails on a row
holding NULL, but writes go on while it runs), an index, unique or not, and
a foreign key added while foreign_key_checks is off.

By copy: every other type change (a shorter VARCHAR, one whose length
prefix grows from 1 to 2 bytes, another character set, VARCHAR to TEXT,
INT to BIGINT, ENUM values removed, reordered or inserted), a foreign key
added while foreign_key_checks is on, and a CHECK constraint, whatever the
ALGORITHM clause.

Per server: MySQL 5.7 (and MariaDB 10.2.2, which took its InnoDB) first
made a longer VARCHAR in place; MariaDB 10.4 also converts utf8mb3 to
utf8mb4 in place, and grows a VARCHAR of at most 127 bytes past 255 in
place. The default ROW_FORMAT (DYNAMIC) is assumed: with REDUNDANT, more is
in place than said here, never less.

tests/test_lint_servers.py proves each claim on MariaDB: what is called in
place here is accepted with ALGORITHM=INPLACE, LOCK=NONE, what is called a
copy is refused with it.
"""
from .column_types import enum_values, is_varchar, type_name

ONLINE = "ALGORITHM=INPLACE, LOCK=NONE"
COPIES = "copies the table (ALGORITHM=COPY)"
WRITES_WAIT = "writes to {} wait until the copy ends"
# A VARCHAR of up to 255 bytes carries each value's length in 1 byte, a
# longer one in 2, and InnoDB changes that size only by a copy. Yet a value
# shorter than 128 bytes always carries its length in 1 byte (in every
# ROW_FORMAT but REDUNDANT), so MariaDB 10.4+ grows a VARCHAR of at most 127
# bytes past 255 in place. An ENUM of up to 255 values stores each row's
# value in 1 byte, a longer one in 2.
ONE_BYTE = 255
SHORT_VALUE = 127
# The most bytes a character takes (information_schema.CHARACTER_SETS.MAXLEN).
CHARACTER_BYTES = dict(
    dict.fromkeys(("armscii8", "ascii", "binary", "cp1250", "cp1251", "cp1256", "cp1257",
                   "cp850", "cp852", "cp866", "dec8", "geostd8", "greek", "hebrew", "hp8",
                   "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5", "latin7",
                   "macce", "macroman", "swe7", "tis620"), 1),
    **dict.fromkeys(("big5", "cp932", "euckr", "gb2312", "gbk", "sjis", "ucs2"), 2),
    **dict.fromkeys(("eucjpms", "ujis", "utf8mb3"), 3),
    **dict.fromkeys(("utf16", "utf16le", "utf32", "utf8mb4"), 4))
# "utf8" is utf8mb3 on MySQL and (by default) on MariaDB.
ALIASES = {"utf8": "utf8mb3"}
# A column whose type names no character set has the table's: utf8mb4, as
# db createdb creates databases (and MySQL 8 and MariaDB 11.6 default to).
DEFAULT_CHARACTER_SET = "utf8mb4"
# A longer VARCHAR and values appended to an ENUM are in place since MySQL
# 5.7's InnoDB (WL#6554), which MariaDB took in 10.2.2: before, every type
# change copies the table.
IN_PLACE_TYPE_CHANGES_SINCE = {"MariaDB": (10, 2, 2), "MySQL": (5, 7)}
# MariaDB 10.4 lifted two limits ("ALTER TABLE improvements in MariaDB
# Server 10.4"): the 127 bytes above, and utf8mb3 to utf8mb4 in place.
MARIADB_LENIENT_SINCE = (10, 4)
MARIADB_IN_PLACE_CONVERSIONS = {("utf8mb3", "utf8mb4")}


def type_change_copies(old, new, dialect):
    """Why InnoDB copies the table to change a column's type from `old` to
    `new` (SQLAlchemy types), or None when it changes it in place."""
    server, version = server_of(dialect)
    if version and version < IN_PLACE_TYPE_CHANGES_SINCE[server]:
        return "{} {} changes no column type in place".format(
            server, ".".join(map(str, version)))
    lenient = server == "MariaDB" and version is not None and version >= MARIADB_LENIENT_SINCE
    conversion = (character_set(old), character_set(new))
    if conversion[0] != conversion[1] and not (
            lenient and is_varchar(old) and conversion in MARIADB_IN_PLACE_CONVERSIONS):
        return "the values are converted from {} to {}".format(*conversion)
    if enum_values(old) is not None and enum_values(new) is not None:
        return enum_change_copies(enum_values(old), enum_values(new))
    if is_varchar(old) and is_varchar(new) and old.length and new.length:
        return varchar_change_copies(old, new, dialect, lenient)
    return ("only a longer VARCHAR whose length prefix keeps its size, or values appended "
            "to an ENUM, change in place")


def varchar_change_copies(old, new, dialect, lenient):
    """Why InnoDB copies the table to make a VARCHAR `new` of `old`, or
    None; `lenient`: MariaDB 10.4+."""
    if new.length < old.length:
        return "InnoDB shrinks no VARCHAR in place"
    (old_bytes, old_set), (new_bytes, new_set) = (
        (type_.length * CHARACTER_BYTES[character_set(type_)], character_set(type_))
        for type_ in (old, new))
    if old_bytes <= ONE_BYTE < new_bytes and not (lenient and old_bytes <= SHORT_VALUE):
        return ("each value's length prefix grows from 1 to 2 bytes ({} in {} is up to {} "
                "bytes, {} in {} up to {})".format(
                    type_name(old, dialect), old_set, old_bytes,
                    type_name(new, dialect), new_set, new_bytes))
    return None


def enum_change_copies(old_values, new_values):
    """Why InnoDB copies the table to give an ENUM `new_values` instead of
    `old_values`, or None."""
    if new_values[:len(old_values)] != old_values:
        return "only values appended at the end of an ENUM change in place"
    if (len(old_values) > ONE_BYTE) != (len(new_values) > ONE_BYTE):
        return "past {} values, each row's value takes 2 bytes instead of 1".format(ONE_BYTE)
    return None


def character_set(type_):
    """The character set a string type names, by itself or by its
    collation's prefix; else the database's default."""
    named = getattr(type_, "charset", None)
    collation = getattr(type_, "collation", None)
    if not named and collation:
        named = collation.split("_", 1)[0]
    named = ALIASES.get(named, named)
    return named if named in CHARACTER_BYTES else DEFAULT_CHARACTER_SET


def server_of(dialect):
    """("MariaDB" or "MySQL", its version as a tuple of numbers, or None
    when not known)."""
    server = "MariaDB" if getattr(dialect, "is_mariadb", False) else "MySQL"
    version = getattr(dialect, "server_version_info", None)
    numbers = tuple(part for part in version or () if isinstance(part, int))[:3]
    return server, numbers or None
