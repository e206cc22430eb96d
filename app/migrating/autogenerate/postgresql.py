"""PostgreSQL's enum types, by alembic-postgresql-enum: a revision creates
the type before a column uses it, drops it after its last column goes, and
adds, removes or reorders values with op.sync_enum_values, whose downgrade
syncs them back. Removing a value that rows still hold fails in the
revision's transaction, so nothing changes (env.py names the value).

Imported only for PostgreSQL: it registers its comparison process-wide and
costs an import the other backends do not need. Its INFO lines (two per
enum of the models, on every run) are silenced; the revision file shows
what it found.

The library asks information_schema for the default of each enum column of
the models, one query a column (100 enum columns: about 180 ms of `db
migrate`). One query for every column of the models' schemas gives it the
same answers (one_query_for_column_defaults): the library is fed, not
forked.
"""
import logging
from collections import defaultdict

import sqlalchemy as sa

# Every column default of the given schemas, as the library reads each.
COLUMN_DEFAULTS = sa.text(
    "SELECT table_schema, table_name, column_name, column_default "
    "FROM information_schema.columns WHERE table_schema IN :schemas"
).bindparams(sa.bindparam("schemas", expanding=True))


class OtherDialects(logging.Filter):
    """Its comparison, registered process-wide, warns on every other
    dialect (a multidb repository may mix them); those warnings say nothing
    to a user."""

    def filter(self, record):
        return "only supports postgresql" not in record.getMessage()


QUIET = OtherDialects()


def enable():
    """Import alembic-postgresql-enum (it registers itself with Alembic)."""
    import alembic_postgresql_enum  # noqa: F401

    logging.getLogger("alembic.alembic_postgresql_enum").setLevel(logging.WARNING)
    logging.getLogger("alembic.alembic_postgresql_enum.compare_dispatch").addFilter(QUIET)
    one_query_for_column_defaults()


def one_query_for_column_defaults():
    """Make the library's comparison read the column defaults it needs in
    one query, instead of one a column. Its get_declared_enums (which
    compare_dispatch calls once per schema of a comparison) runs with its
    get_column_default answered from column_defaults(); nothing else of the
    library changes, and its upgrade-time operations keep their own queries."""
    from alembic_postgresql_enum import compare_dispatch
    from alembic_postgresql_enum.get_enum_data import declared_enums

    library = compare_dispatch.get_declared_enums
    if getattr(library, "one_query", False):
        return
    asking_per_column = declared_enums.get_column_default

    def get_declared_enums(metadata, schema, default_schema, connection, *args, **kwargs):
        defaults = column_defaults(connection, metadata, default_schema)
        declared_enums.get_column_default = (
            lambda _connection, table_schema, table_name, column_name:
            defaults[table_schema].get((table_name, column_name)))
        try:
            return library(metadata, schema, default_schema, connection, *args, **kwargs)
        finally:
            declared_enums.get_column_default = asking_per_column

    get_declared_enums.one_query = True
    compare_dispatch.get_declared_enums = get_declared_enums


def column_defaults(connection, metadata, default_schema):
    """{schema: {(table, column): its default as information_schema gives
    it, or None}} for every schema of a table of `metadata` (a MetaData or a
    list of them); a column the database does not have yet has no entry."""
    metadatas = metadata if isinstance(metadata, list) else [metadata]
    schemas = sorted({table.schema or default_schema
                      for each in metadatas for table in each.tables.values()})
    defaults = defaultdict(dict)
    if schemas:
        for table_schema, table, column, default in connection.execute(
                COLUMN_DEFAULTS, {"schemas": schemas}):
            defaults[table_schema][(table, column)] = default
    return defaults
