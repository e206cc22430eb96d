"""op.expand_column and op.contract_column: a column's type or name changed
in two revisions around a deploy. On PostgreSQL the expand adds the new
column beside the old one, kept in step by a trigger and backfilled, and the
contract swaps it in: both releases write through while expanded, the
final schema is what the models say (primary key, sequence, foreign keys,
indexes and their names, NOT NULL), no row is lost, both downgrades bring
back the schema and rows of the start, and a run stopped part-way finishes
when run again. On SQLite and MariaDB the same revisions make the plain
change. Hand-written revisions on a users table of ROWS rows."""
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.support import assert_ok, error_lines
from tests.test_autogenerate import OLD_ROLES, assert_clean, execute

ROWS = 2000
SETUP, EXPAND, CONTRACT = "ec0000000001", "ec0000000002", "ec0000000003"
POST_MODEL = '''

class Post(db.Model):
    __tablename__ = "posts"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
'''
CREATE_POSTS = '''op.create_table(
    "posts",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_posts_user_id_users")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
)
op.create_index(op.f("ix_posts_user_id"), "posts", ["user_id"])'''
NAME_INDEX = 'op.create_index(op.f("ix_users_name"), "users", ["name"])'
PREVIOUS_ROLE = ('op.add_column("users", sa.Column("previous_role", postgresql.ENUM('
                 'name="user_role", create_type=False)))')
ROLE_TYPES = ('sa.Enum("super_user", "user", name="user_role", create_constraint=True)',
              'sa.Enum("super_user", "admin", "user", name="user_role", create_constraint=True)')
TO_BIGINT = '"users", "id", sa.BigInteger(), existing_type=sa.Integer()'
TO_TEXT = '"users", "name", sa.Text(), existing_type=sa.String(128)'
RENAME = '"users", "name", new_name="full_name"'


@pytest.fixture
def populated(project):
    """The project's database at head, its users table holding ROWS users."""
    assert_ok(project.manage("db", "upgrade"))
    with project.engine() as engine, engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name, email, role) VALUES "
                                "(:name, :email, :role)"),
                           [{"name": "user {}".format(n), "email": "u{}@example.com".format(n),
                             "role": "super_user" if n % 7 == 0 else "user"}
                            for n in range(1, ROWS + 1)])
    return project


def with_revisions(project, setup, setup_down, arguments):
    """Three revisions after head: `setup` (undone by `setup_down`), then
    op.expand_column(`arguments`), then op.contract_column(`arguments`);
    the database upgraded to the first."""
    head = project.version()[0]
    project.add_revision(SETUP, head, "from sqlalchemy.dialects import postgresql\n" + setup,
                         setup_down)
    for revision, down, name in ((EXPAND, SETUP, "expand"), (CONTRACT, EXPAND, "contract")):
        call = "op.{}_column({}{{}})".format(name, arguments)
        project.add_revision(revision, down, call.format(""), call.format(", undo=True"))
    assert_ok(project.manage("db", "upgrade", SETUP))


def with_posts(project):
    """A posts table pointing at users, one post per user (the models say so
    too)."""
    models = project.root / "app" / "models.py"
    models.write_text(models.read_text() + POST_MODEL)
    return CREATE_POSTS, 'op.drop_index(op.f("ix_posts_user_id"), "posts")\n' \
                         'op.drop_table("posts")'


def rows(project, sql):
    return execute(project, sql)


def schema(project, tables=("users", "posts")):
    """What PostgreSQL says of the tables: columns (type, NOT NULL, default),
    indexes, constraints (and whether validated), sequences, enum types,
    triggers and functions; column order aside."""
    names = "'" + "', '".join(tables) + "'"
    return {
        "columns": rows(project, "SELECT table_name, column_name, data_type, udt_name, "
                                 "character_maximum_length, is_nullable, column_default "
                                 "FROM information_schema.columns WHERE table_name IN ({}) "
                                 "ORDER BY 1, 2".format(names)),
        "indexes": rows(project, "SELECT indexname, indexdef FROM pg_indexes "
                                 "WHERE tablename IN ({}) ORDER BY 1".format(names)),
        "constraints": rows(project, "SELECT conname, pg_get_constraintdef(oid), convalidated "
                                     "FROM pg_constraint WHERE conrelid::regclass::text IN "
                                     "({}) ORDER BY 1".format(names)),
        "sequences": rows(project, "SELECT seqrelid::regclass::text, "
                                   "format_type(seqtypid, NULL) FROM pg_sequence ORDER BY 1"),
        "enums": rows(project, "SELECT t.typname, array_agg(e.enumlabel ORDER BY "
                               "e.enumsortorder) FROM pg_type t JOIN pg_enum e "
                               "ON e.enumtypid = t.oid GROUP BY 1 ORDER BY 1"),
        "triggers": rows(project, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"),
        "functions": rows(project, "SELECT proname FROM pg_proc WHERE proname LIKE '%_sync'"),
    }


def column(project, name, table="users"):
    """(data type, NOT NULL) of a column, or None without it."""
    found = rows(project, "SELECT data_type, is_nullable = 'NO' FROM information_schema.columns "
                          "WHERE table_name = '{}' AND column_name = '{}'".format(table, name))
    return found[0] if found else None


def constraint(project, name):
    """(definition, validated) of a constraint, or None."""
    found = rows(project, "SELECT pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                          "WHERE conname = '{}'".format(name))
    return found[0] if found else None


def index(project, name):
    """(definition, valid) of an index, or None."""
    found = rows(project, "SELECT pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i "
                          "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = '{}'"
                 .format(name))
    return found[0] if found else None


def users_data(project, name="name"):
    return rows(project, "SELECT id, {}, email, role::text FROM users ORDER BY id".format(name))


def downgrade_to_setup(project, at_start):
    """Both downgrades, one at a time, back to the schema `at_start`."""
    assert_ok(project.manage("db", "downgrade", EXPAND))
    assert project.version() == [EXPAND]
    assert_ok(project.manage("db", "downgrade", SETUP))
    assert project.version() == [SETUP]
    assert schema(project) == at_start


@pytest.mark.backends("postgresql")
def test_an_int_primary_key_becomes_bigint_with_its_sequence_and_the_keys_pointing_at_it(
        populated):
    with_revisions(populated, *with_posts(populated), TO_BIGINT)
    execute(populated, "INSERT INTO posts (user_id) SELECT id FROM users")
    at_start = schema(populated)

    assert_ok(populated.manage("db", "upgrade", EXPAND))
    assert column(populated, "id_new") == ("bigint", False)  # NOT NULL by its CHECK
    assert constraint(populated, "users_id_new_not_null")[1] is True
    assert index(populated, "pk_users_new") == (
        "CREATE UNIQUE INDEX pk_users_new ON public.users USING btree (id_new)", True)
    # The old release writes id; the shadow follows, on INSERT and UPDATE.
    [(new_id,)] = execute(populated, "INSERT INTO users (name, email) VALUES ('Ann', "
                                     "'ann@example.com') RETURNING id")
    assert rows(populated, "SELECT id_new FROM users WHERE id = {}".format(new_id)) == [
        (new_id,)]
    execute(populated, "UPDATE users SET id = 5000 WHERE id = {}".format(new_id))
    execute(populated, "UPDATE users SET id_new = 1 WHERE id = 6")  # overwritten
    assert rows(populated, "SELECT COUNT(*) FROM users WHERE id_new IS DISTINCT FROM id") == [
        (0,)]
    assert rows(populated, "SELECT id_new FROM users WHERE id = 5000") == [(5000,)]
    data = users_data(populated)

    assert_ok(populated.manage("db", "upgrade", CONTRACT))
    assert column(populated, "id") == ("bigint", True)
    assert column(populated, "id_new") is None
    assert constraint(populated, "pk_users") == ("PRIMARY KEY (id)", True)
    assert constraint(populated, "fk_posts_user_id_users") == (
        "FOREIGN KEY (user_id) REFERENCES users(id)", True)
    assert constraint(populated, "users_id_new_not_null") is None
    assert rows(populated, "SELECT format_type(seqtypid, NULL) FROM pg_sequence "
                           "WHERE seqrelid = 'users_id_seq'::regclass") == [("bigint",)]
    assert rows(populated, "SELECT pg_get_serial_sequence('users', 'id')") == [
        ("public.users_id_seq",)]
    assert users_data(populated) == data
    [(next_id,)] = execute(populated, "INSERT INTO users (name, email) VALUES ('Bob', "
                                      "'bob@example.com') RETURNING id")
    assert next_id == new_id + 1  # the sequence goes on
    execute(populated, "INSERT INTO users (id, name, email) VALUES (3000000000, 'Big', "
                       "'big@example.com')")
    with pytest.raises(DBAPIError):  # the key still refuses an orphan
        execute(populated, "INSERT INTO posts (user_id) VALUES (123456789)")
    assert schema(populated)["triggers"] == [] and schema(populated)["functions"] == []
    populated.edit_models("id = db.Column(db.Integer, primary_key=True)\n    name",
                          "id = db.Column(db.BigInteger, primary_key=True)\n    name")
    assert_clean(populated)

    execute(populated, "DELETE FROM users WHERE id IN ({}, 3000000000)".format(next_id))
    execute(populated, "SELECT setval('users_id_seq', {})".format(new_id))
    downgrade_to_setup(populated, at_start)
    assert users_data(populated) == data


@pytest.mark.backends("postgresql")
def test_an_indexed_varchar_becomes_text_and_keeps_its_index_name(populated):
    with_revisions(populated, NAME_INDEX, 'op.drop_index(op.f("ix_users_name"), "users")',
                   TO_TEXT)
    at_start = schema(populated)
    assert_ok(populated.manage("db", "upgrade", EXPAND))
    assert index(populated, "ix_users_name_new")[1] is True
    execute(populated, "UPDATE users SET name = 'renamed' WHERE id = 3")
    assert rows(populated, "SELECT name_new FROM users WHERE id = 3") == [("renamed",)]
    data = users_data(populated)

    assert_ok(populated.manage("db", "upgrade", CONTRACT))
    assert column(populated, "name") == ("text", True)
    assert index(populated, "ix_users_name") == (
        "CREATE INDEX ix_users_name ON public.users USING btree (name)", True)
    assert index(populated, "ix_users_name_new") is None
    assert users_data(populated) == data
    populated.edit_models("name = db.Column(db.String(128), nullable=False)",
                          "name = db.Column(db.Text, nullable=False, index=True)")
    assert_clean(populated)

    downgrade_to_setup(populated, at_start)
    assert users_data(populated) == data


@pytest.mark.backends("postgresql")
def test_a_renamed_column_is_written_through_both_names_while_expanded(populated):
    with_revisions(populated, NAME_INDEX, 'op.drop_index(op.f("ix_users_name"), "users")',
                   RENAME)
    at_start = schema(populated)
    assert_ok(populated.manage("db", "upgrade", EXPAND))
    assert column(populated, "full_name") == ("character varying", False)
    assert index(populated, "ix_users_full_name")[1] is True
    # The old release writes name, the new one full_name: each follows the other.
    execute(populated, "INSERT INTO users (name, email) VALUES ('Old', 'old@example.com')")
    execute(populated, "INSERT INTO users (full_name, email) VALUES ('New', 'new@example.com')")
    execute(populated, "UPDATE users SET name = 'old write' WHERE id = 1")
    execute(populated, "UPDATE users SET full_name = 'new write' WHERE id = 2")
    assert rows(populated, "SELECT name, full_name FROM users WHERE id IN (1, 2) OR email IN "
                           "('old@example.com', 'new@example.com') ORDER BY id") == [
        ("old write", "old write"), ("new write", "new write"), ("Old", "Old"), ("New", "New")]
    assert rows(populated, "SELECT COUNT(*) FROM users WHERE name <> full_name") == [(0,)]
    data = users_data(populated)

    assert_ok(populated.manage("db", "upgrade", CONTRACT))
    assert column(populated, "name") is None
    assert column(populated, "full_name") == ("character varying", True)
    assert constraint(populated, "users_full_name_not_null") is None
    assert users_data(populated, "full_name") == data
    populated.edit_models("name = db.Column(db.String(128), nullable=False)",
                          'name = db.Column("full_name", db.String(128), nullable=False, '
                          'index=True)')
    assert_clean(populated)

    downgrade_to_setup(populated, at_start)
    assert users_data(populated) == data


@pytest.mark.backends("postgresql")
def test_an_enum_value_no_row_holds_is_removed_from_two_columns_sharing_the_type(populated):
    new, old = ROLE_TYPES
    head = populated.version()[0]
    populated.add_revision(SETUP, head, "from sqlalchemy.dialects import postgresql\n"
                           + PREVIOUS_ROLE, 'op.drop_column("users", "previous_role")')
    both = "\n".join('op.{{0}}_column("users", "{}", {}, existing_type={}{{1}})'.format(
        name, new, old) for name in ("role", "previous_role"))
    populated.add_revision(EXPAND, SETUP, both.format("expand", ""),
                           both.format("expand", ", undo=True"))
    populated.add_revision(CONTRACT, EXPAND, both.format("contract", ""),
                           both.format("contract", ", undo=True"))
    assert_ok(populated.manage("db", "upgrade", SETUP))
    execute(populated, "UPDATE users SET previous_role = role WHERE id % 2 = 0")
    at_start = schema(populated)
    data = users_data(populated)

    assert_ok(populated.manage("db", "upgrade", EXPAND))
    assert dict(schema(populated)["enums"])["user_role_new"] == ["super_user", "user"]
    execute(populated, "UPDATE users SET role = 'super_user' WHERE id = 1")
    assert rows(populated, "SELECT role_new::text FROM users WHERE id = 1") == [
        ("super_user",)]
    with pytest.raises(DBAPIError):  # the value being removed can no longer be written
        execute(populated, "UPDATE users SET role = 'admin' WHERE id = 1")
    execute(populated, "UPDATE users SET role = 'user' WHERE id = 1")

    assert_ok(populated.manage("db", "upgrade", CONTRACT))
    assert dict(schema(populated)["enums"]) == {"user_role": ["super_user", "user"]}
    assert rows(populated, "SELECT column_name, udt_name, is_nullable, column_default FROM "
                           "information_schema.columns WHERE table_name = 'users' AND "
                           "column_name LIKE '%role' ORDER BY 1") == [
        ("previous_role", "user_role", "YES", None),
        ("role", "user_role", "NO", "'user'::user_role")]
    assert users_data(populated) == data
    populated.edit_models(OLD_ROLES, 'ROLES = ("super_user", "user")')
    populated.add_to_model('    previous_role = db.Column(db.Enum(*ROLES, name="user_role", '
                           'create_constraint=True))')
    assert_clean(populated)

    downgrade_to_setup(populated, at_start)
    assert users_data(populated) == data


@contextmanager
def locking_users_row(project, row_id):
    """Another client's open transaction holding one row of users FOR
    UPDATE: a writer of that row waits, while the table's ALTERs that
    take less than an exclusive lock (CREATE TRIGGER) go on."""
    with project.engine() as engine, engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"),
                           {"id": row_id})
        try:
            yield
        finally:
            transaction.rollback()


@pytest.mark.backends("postgresql")
def test_a_renamed_unique_column_gets_its_unique_constraint_before_the_deploy(populated):
    with_revisions(populated, "pass", "pass", '"users", "email", new_name="address"')
    at_start = schema(populated)
    assert_ok(populated.manage("db", "upgrade", EXPAND))
    assert constraint(populated, "uq_users_address") == ("UNIQUE (address)", True)
    with pytest.raises(DBAPIError):  # either name refuses a duplicate
        execute(populated, "INSERT INTO users (name, address) VALUES ('x', 'u1@example.com')")
    assert_ok(populated.manage("db", "upgrade", CONTRACT))
    assert constraint(populated, "uq_users_email") is None
    downgrade_to_setup(populated, at_start)


@pytest.mark.backends("postgresql")
def test_a_primary_key_is_not_renamed_by_expand_column(populated):
    with_revisions(populated, "pass", "pass", '"users", "id", new_name="user_id"')
    failed = populated.manage("db", "upgrade")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "users.id cannot be changed by expand_column (renaming a primary key column): " \
           "change it with op.alter_column" in failure_line(failed)
    assert populated.columns("users")[0] == "id" and "user_id" not in populated.columns("users")


def failure_line(result):
    [line] = [line for line in error_lines(result.stderr) if not line.startswith("backfill ")]
    return line


@pytest.mark.backends("postgresql")
def test_rows_holding_the_removed_enum_value_stop_the_expand_in_one_line(populated):
    with_revisions(populated, "pass", "pass",
                   '"users", "role", {}, existing_type={}'.format(*ROLE_TYPES))
    execute(populated, "UPDATE users SET role = 'admin' WHERE id IN (4, 8, 15)")
    failed = populated.manage("db", "upgrade")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    line = failure_line(failed)
    assert "users.role holds 'admin' (3 rows), which the type user_role drops: change those " \
           "rows, then run the command again" in line
    assert populated.version() == [SETUP]

    execute(populated, "UPDATE users SET role = 'user' WHERE role = 'admin'")
    assert_ok(populated.manage("db", "upgrade"))
    assert dict(schema(populated)["enums"]) == {"user_role": ["super_user", "user"]}


@pytest.mark.backends("postgresql")
def test_an_expand_stopped_in_its_backfill_and_an_invalid_index_finish_when_run_again(
        populated):
    with_revisions(populated, NAME_INDEX, 'op.drop_index(op.f("ix_users_name"), "users")',
                   TO_TEXT)
    # What an expand stopped after its first steps leaves: the shadow, and
    # the INVALID index of a CREATE INDEX CONCURRENTLY that failed (here,
    # on purpose, dividing by zero in its build).
    execute(populated, "ALTER TABLE users ADD COLUMN name_new text")
    with pytest.raises(DBAPIError):
        with populated.engine() as engine, engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CREATE INDEX CONCURRENTLY ix_users_name_new "
                                    "ON users ((1 / (id - 7)))"))
    assert index(populated, "ix_users_name_new")[1] is False
    with locking_users_row(populated, 1500):
        failed = populated.manage("db", "upgrade", env={"TABLE_LOCK_TIMEOUT": "2"})
    assert failed.returncode == 1
    assert "stopped part-way through its upgrade: it waited more than 2s for a lock on " \
           "table users" in failure_line(failed)
    [unfinished] = [row for row in populated.log() if row["finished_at"] is None]
    assert 1000 <= int(unfinished["resume_key"]) <= 1500
    assert rows(populated, "SELECT COUNT(*) FROM users WHERE name_new IS NULL") == [
        (ROWS - int(unfinished["resume_key"]) + 1,)]

    assert_ok(populated.manage("db", "upgrade"))
    assert populated.version() == [CONTRACT]
    assert column(populated, "name") == ("text", True)
    assert index(populated, "ix_users_name") == (
        "CREATE INDEX ix_users_name ON public.users USING btree (name)", True)
    assert rows(populated, "SELECT COUNT(*) FROM users WHERE name LIKE 'user %'") == [(ROWS,)]


@pytest.mark.backends("postgresql")
def test_a_sql_script_holds_the_statements_without_reading_the_catalog(populated):
    with_revisions(populated, "pass", "pass", TO_BIGINT)
    script = assert_ok(populated.manage("db", "upgrade", "--sql",
                                        "{}:{}".format(SETUP, CONTRACT))).stdout
    for part in ("ALTER TABLE users ADD COLUMN IF NOT EXISTS id_new BIGINT",
                 "CREATE TRIGGER users_id_sync BEFORE INSERT OR UPDATE ON users",
                 "UPDATE users SET id_new=id::BIGINT WHERE id_new IS DISTINCT FROM id::BIGINT",
                 "-- expand_column of users.id: NOT NULL, indexes",
                 "ALTER TABLE users DROP COLUMN id",
                 "ALTER TABLE users RENAME COLUMN id_new TO id",
                 "DROP FUNCTION IF EXISTS users_id_sync()"):
        assert part in script, script
    assert populated.version() == [SETUP]


CHANGES = {
    "type": (TO_TEXT, "name", "name"),
    "rename": (RENAME, "name", "full_name"),
    "enum": ('"users", "role", {}, existing_type={}'.format(*ROLE_TYPES), "role", "role"),
}


@pytest.mark.backends("sqlite", "mysql")
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_other_servers_make_the_plain_change_in_the_expand(populated, backend, change):
    arguments, before, after = CHANGES[change]
    with_revisions(populated, "pass", "pass", arguments)
    data = rows(populated, "SELECT * FROM users ORDER BY id")
    assert_ok(populated.manage("db", "upgrade", EXPAND))
    assert before in populated.columns("users") if change != "rename" else \
        after in populated.columns("users") and before not in populated.columns("users")
    assert_ok(populated.manage("db", "upgrade", CONTRACT))
    assert rows(populated, "SELECT * FROM users ORDER BY id") == data
    if change == "enum":
        with pytest.raises(DBAPIError):
            execute(populated, "UPDATE users SET role = 'admin' WHERE id = 1")
    assert_ok(populated.manage("db", "downgrade", SETUP))
    assert before in populated.columns("users") and rows(
        populated, "SELECT * FROM users ORDER BY id") == data
