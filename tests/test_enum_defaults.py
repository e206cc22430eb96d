"""alembic-postgresql-enum reads the default of each enum column of the
models; autogenerate/postgresql.py gives it every default in one query. The
answers must be the library's own, for tables and columns that exist and
for those that do not yet, in the default schema and another."""
import pytest
import sqlalchemy as sa

from app.migrating.autogenerate import postgresql

pytestmark = pytest.mark.backends("postgresql")

DATABASE = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE SCHEMA other;
CREATE TYPE other.size AS ENUM ('small', 'large');
CREATE TABLE people (id serial PRIMARY KEY, mood mood DEFAULT 'happy', plain mood);
CREATE TABLE other."Odd Name" (id integer, size other.size DEFAULT 'large'::other.size,
                               mood mood DEFAULT 'sad');
"""


def models():
    metadata = sa.MetaData()
    mood = sa.Enum("happy", "sad", name="mood")
    sa.Table("people", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("mood", mood, server_default="happy"), sa.Column("plain", mood),
             sa.Column("later", mood))  # not in the database yet
    sa.Table("Odd Name", metadata, sa.Column("id", sa.Integer),
             sa.Column("size", sa.Enum("small", "large", name="size", schema="other")),
             sa.Column("mood", mood), schema="other")
    sa.Table("new_table", metadata, sa.Column("mood", mood))
    return metadata


@pytest.fixture
def connection(database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as setup:
        for statement in DATABASE.split(";"):
            if statement.strip():
                setup.execute(sa.text(statement))
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_one_query_gives_the_default_the_library_asks_for_each_column(connection):
    from alembic_postgresql_enum.sql_commands.column_default import get_column_default

    metadata = models()
    defaults = postgresql.column_defaults(connection, metadata, "public")
    asked = 0
    for table in metadata.tables.values():
        for column in table.columns:
            schema = table.schema or "public"
            library = get_column_default(connection, schema, table.name, column.name)
            assert defaults[schema].get((table.name, column.name)) == library
            asked += library is not None
    assert asked == 4  # people.id (its sequence), people.mood, "Odd Name".size and .mood


def test_the_comparison_declares_the_same_enums_in_one_query_for_the_defaults(connection):
    postgresql.enable()
    from alembic_postgresql_enum import compare_dispatch
    from alembic_postgresql_enum.get_enum_data import declared_enums

    metadata = models()
    statements = []
    sa.event.listen(connection, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    # The enum columns of each enum schema, which the library asks one by one.
    for schema, enum_columns in (("public", 5), ("other", 1)):
        statements.clear()
        ours = compare_dispatch.get_declared_enums(metadata, schema, "public", connection)
        assert sum("information_schema.columns" in sql for sql in statements) == 1
        statements.clear()
        library = declared_enums.get_declared_enums(metadata, schema, "public", connection)
        assert sum("information_schema.columns" in sql for sql in statements) == enum_columns
        assert ours == library
        assert ours.enum_table_references  # the comparison saw columns with defaults
    assert declared_enums.get_column_default.__module__.endswith("column_default")
