"""What `python manage.py db migrate` writes runs unedited and keeps the
data: each test changes the models of a project copy whose users table
holds rows, runs db migrate (under a pseudo-terminal where it asks), then
upgrade -> check -> downgrade -1 -> upgrade -> check, and reads the rows
back. On SQLite, PostgreSQL and MariaDB."""
import json

import pytest
from sqlalchemy import text

from app.migrating.lint.rules import BUILT_IN_NAME
from tests.support import assert_ok, committed_revisions, error_lines
from tests.test_cli import new_revision_id

HEAD = committed_revisions()[-1][0]
USERS = [("Ann", "ann@example.com"), ("Bob", "bob@example.com")]
OLD_ROLES = 'ROLES = ("super_user", "admin", "user")'
NAME_COLUMN = "name = db.Column(db.String(128), nullable=False)"
NEW_NOT_NULL_PROMPT = "Value for those rows, once"


@pytest.fixture
def users(project):
    """The project's database at head, with USERS in it."""
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO users (name, email) VALUES "
            + ", ".join("('{}', '{}')".format(*user) for user in USERS))
    return project


def execute(project, sql):
    with project.engine() as engine, engine.begin() as connection:
        result = connection.execute(text(sql))
        return [tuple(row) for row in result] if result.returns_rows else None


def written(project, result):
    """The text of the revision db migrate wrote."""
    revision = new_revision_id(result)
    [name] = [n for n in project.revision_files() if revision in n]
    return (project.root / "migrations" / "versions" / name).read_text()


def phase_files(project, slug):
    """The texts of the revisions db migrate wrote for `slug`: the one that
    runs before the deploy, and the one that runs after it (None when it
    wrote none)."""
    names = [n for n in project.revision_files() if slug in n]
    after = [n for n in names if "after_the_deploy" in n]
    [before] = [n for n in names if n not in after]
    folder = project.root / "migrations" / "versions"
    return folder.joinpath(before).read_text(), \
        folder.joinpath(after[0]).read_text() if after else None


def assert_clean(project):
    assert "No changes: the models match the migrations." in assert_ok(
        project.manage("db", "check")).stdout


def lint_errors(project):
    """The rules `db lint` finds errors of in the revisions not yet applied,
    by their built-in names (squawk's, on PostgreSQL, are mapped)."""
    result = project.manage("db", "lint", "--json")
    findings = json.loads(result.stdout)["findings"]
    errors = {BUILT_IN_NAME.get(finding["rule"], finding["rule"]) for finding in findings
              if finding["level"] == "error"}
    assert result.returncode == (1 if errors else 0), result.stdout + result.stderr
    return errors


def round_trip(project, at_old_revision=lambda: None, lint=()):
    """db lint (errors of exactly the rules `lint`: a drop, a rename or an
    enum value removed breaks the code still running during a deploy, which
    is what lint is there to say; no error otherwise), then upgrade, check,
    downgrade -1 (then at_old_revision()), upgrade, check."""
    assert lint_errors(project) == set(lint)
    assert_ok(project.manage("db", "upgrade"))
    head = project.version()
    assert_clean(project)
    assert_ok(project.manage("db", "downgrade", "-1"))
    assert project.version() != head
    at_old_revision()
    assert_ok(project.manage("db", "upgrade"))
    assert project.version() == head
    assert_clean(project)


def refused(project, sql):
    """The database error `sql` raises, or None when it runs."""
    try:
        execute(project, sql)
    except Exception as error:  # the database refused it
        return error
    return None


def test_an_enum_value_added_is_written_and_reversed(users, backend):
    users.edit_models(OLD_ROLES, 'ROLES = ("super_user", "admin", "user", "guest")')
    # Before: db check sees the change that the database does not have.
    check = users.manage("db", "check")
    assert check.returncode == 1, check.stdout + check.stderr
    script = written(users, assert_ok(users.manage("db", "migrate", "-m", "guest role")))
    assert "guest" in script
    if backend != "sqlite":  # batch mode needs a live SQLite database to copy from
        sql = assert_ok(users.manage("db", "upgrade", "--sql", HEAD + ":head")).stdout
        assert "guest" in sql and ("ALTER TYPE" if backend == "postgresql" else "ENUM(") in sql

    def guests_refused():
        assert refused(users, "UPDATE users SET role = 'guest' WHERE name = 'Ann'")

    round_trip(users, at_old_revision=guests_refused)
    execute(users, "UPDATE users SET role = 'guest' WHERE name = 'Ann'")
    assert execute(users, "SELECT name, role FROM users ORDER BY id") == [
        ("Ann", "guest"), ("Bob", "user")]


@pytest.mark.backends("postgresql", "sqlite")
def test_removing_an_enum_value_that_rows_hold_fails_and_changes_nothing(users, backend):
    execute(users, "UPDATE users SET role = 'admin' WHERE name = 'Bob'")
    users.edit_models(OLD_ROLES, 'ROLES = ("super_user", "user")')
    assert_ok(users.manage("db", "migrate", "-m", "no admins"))
    before = users.version(), users.columns("users")

    failed = users.manage("db", "upgrade")
    assert failed.returncode == 1
    [line] = error_lines(failed.stderr)
    if backend == "postgresql":
        # op.expand_column commits part by part: it refuses before its first
        # part, and the next run goes on from there.
        assert "users.role holds 'admin' (1 row)" in line and "next run goes on" in line
    else:
        assert "rolled back" in line
    assert (users.version(), users.columns("users")) == before
    assert execute(users, "SELECT name, role FROM users ORDER BY id") == [
        ("Ann", "user"), ("Bob", "admin")]

    execute(users, "UPDATE users SET role = 'user' WHERE name = 'Bob'")
    # On PostgreSQL the removal is expand and contract, online.
    round_trip(users, lint=["enum-value-removed"] if backend == "sqlite" else [])
    assert refused(users, "UPDATE users SET role = 'admin' WHERE name = 'Bob'")


POST_MODEL = '''

class Post(db.Model):
    __tablename__ = "posts"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    status = db.Column(db.Enum("draft", "published", name="post_status",
                               create_constraint=True),
                       nullable=False, server_default="draft")
'''
PLAN_COLUMN = ('    plan = db.Column(db.Enum("free", "pro", name="user_plan", '
               'create_constraint=True), nullable=False, server_default="free")')


def enum_types(project, backend):
    if backend != "postgresql":
        return set()
    return {row[0] for row in execute(project, "SELECT typname FROM pg_type WHERE typtype = 'e'")}


def test_a_new_table_with_an_enum_a_foreign_key_and_its_index_both_ways(users, backend):
    """Several changes in one revision: a table with an enum column and a
    foreign key with an index on the same column (MariaDB refuses to drop
    that index before the key), and an enum column on a table with rows."""
    models = users.root / "app" / "models.py"
    models.write_text(models.read_text() + POST_MODEL)
    users.add_to_model(PLAN_COLUMN)
    assert_ok(users.manage("db", "migrate", "-m", "posts and plans"))

    def types_gone():
        assert "posts" not in users.tables()
        assert "plan" not in users.columns("users")
        assert enum_types(users, backend) <= {"user_role"}

    round_trip(users, at_old_revision=types_gone)
    if backend == "postgresql":
        assert {"post_status", "user_plan"} <= enum_types(users, backend)
    execute(users, "INSERT INTO posts (user_id) SELECT id FROM users WHERE name = 'Ann'")
    assert execute(users, "SELECT name, email, plan FROM users ORDER BY id") == [
        (name, email, "free") for name, email in USERS]
    assert execute(users, "SELECT status FROM posts") == [("draft",)]
    if backend != "sqlite":  # SQLite checks foreign keys only when told to
        assert refused(users, "INSERT INTO posts (user_id) VALUES (999)")


NICKNAME = "    nickname = db.Column(db.String(64), nullable=False)"
JOINED = "    joined_at = db.Column(db.DateTime, nullable=False)"


def test_a_not_null_column_without_a_default_is_refused_without_a_terminal(users):
    users.add_to_model(NICKNAME)
    before = users.revision_files()
    result = users.manage("db", "migrate", "-m", "nickname")
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "users.nickname is NOT NULL without a server_default" in line
    assert "no revision was written" in line
    assert "Traceback" not in result.stderr
    assert users.revision_files() == before


def test_a_not_null_column_gets_a_one_off_value_at_a_terminal(users, backend):
    users.add_to_model(NICKNAME)
    users.add_to_model(JOINED)
    code, screen = users.manage_on_terminal(
        "db", "migrate", "-m", "nickname and joined_at", answers=[
            (NEW_NOT_NULL_PROMPT, "n/a"),  # not a literal: asked again
            (NEW_NOT_NULL_PROMPT, "'n/a'"),
            ("or now for the current time", "now"),
        ])
    assert code == 0, screen
    assert "users.nickname is NOT NULL and has no server_default" in screen
    assert "n/a is not a Python literal" in screen
    assert "Traceback" not in screen
    script, after_deploy = phase_files(users, "nickname_and_joined_at")
    if backend == "sqlite":
        assert "op.execute(" in script and after_deploy is None
    else:  # the value as the column's default, dropped after: no row is rewritten
        assert "server_default=sa.text(\"'n/a'\")" in script
        assert "server_default=sa.text('CURRENT_TIMESTAMP')" in script
        assert "server_default=None" not in script and "op.execute(" not in script
        # dropped after the deploy: the old release inserts rows without them
        assert after_deploy.count("server_default=None") == 2

    round_trip(users, at_old_revision=lambda: None)
    rows = execute(users, "SELECT name, nickname, joined_at FROM users ORDER BY id")
    assert [(name, nickname) for name, nickname, _ in rows] == [("Ann", "n/a"), ("Bob", "n/a")]
    assert all(joined is not None for _, _, joined in rows)
    assert refused(users, "INSERT INTO users (name, email, joined_at) "
                          "VALUES ('Cy', 'cy@example.com', CURRENT_TIMESTAMP)")


def rename_name_column(project):
    project.edit_models(NAME_COLUMN,
                        'name = db.Column("full_name", db.String(128), nullable=False)')


def test_a_rename_confirmed_at_a_terminal_keeps_every_value(users, backend):
    rename_name_column(users)
    one_step = [("or in one step? [E/o]", "o")] if backend == "postgresql" else []
    code, screen = users.manage_on_terminal("db", "migrate", "-m", "full name", answers=[
        ("Did you rename users.name to users.full_name (VARCHAR(128))? [y/N]", "y")] + one_step)
    assert code == 0, screen
    assert "data will be lost" not in screen
    [name] = [n for n in users.revision_files() if "full_name" in n]
    script = (users.root / "migrations" / "versions" / name).read_text()
    assert "new_column_name='full_name'" in script
    assert "new_column_name='name'" in script
    assert "drop_column" not in script

    def names_back():
        assert execute(users, "SELECT name FROM users ORDER BY id") == [("Ann",), ("Bob",)]

    round_trip(users, at_old_revision=names_back, lint=["rename-column"])
    assert execute(users, "SELECT full_name, email FROM users ORDER BY id") == USERS


def test_a_rename_declined_is_a_drop_and_an_add_with_a_warning(users):
    rename_name_column(users)
    code, screen = users.manage_on_terminal("db", "migrate", "-m", "full name", answers=[
        ("Did you rename users.name to users.full_name (VARCHAR(128))? [y/N]", "n"),
        (NEW_NOT_NULL_PROMPT, "'someone'"),
        (NEW_NOT_NULL_PROMPT, "'nobody'")])
    assert code == 0, screen
    assert "users.name is dropped; the downgrade adds it back NOT NULL" in screen
    assert "warning: users.name is dropped: its data will be lost" in screen
    script, after_deploy = phase_files(users, "full_name")
    assert "drop_column('name')" in after_deploy and "new_column_name" not in script
    assert "drop_column('name')" not in script

    def names_back():
        assert execute(users, "SELECT name FROM users") == [("nobody",), ("nobody",)]

    round_trip(users, at_old_revision=names_back)
    assert execute(users, "SELECT full_name FROM users") == [("someone",), ("someone",)]


def test_without_a_terminal_a_rename_is_not_guessed(users):
    rename_name_column(users)
    before = users.revision_files()
    result = users.manage("db", "migrate", "-m", "full name")
    assert result.returncode == 1
    assert "warning: users.name is dropped: its data will be lost" in result.stderr
    assert "users.full_name is NOT NULL without a server_default" in result.stderr
    assert users.revision_files() == before


def test_a_table_rename_confirmed_at_a_terminal_keeps_rows_and_references(users, backend):
    """users becomes people while posts holds a foreign key to it: the
    rows stay, the foreign key follows, and the indexes and constraints
    named after users take people's names."""
    models = users.root / "app" / "models.py"
    models.write_text(models.read_text() + POST_MODEL)
    assert_ok(users.manage("db", "migrate", "-m", "posts"))
    assert_ok(users.manage("db", "upgrade"))
    execute(users, "INSERT INTO posts (user_id) SELECT id FROM users WHERE name = 'Bob'")

    users.edit_models('__tablename__ = "users"', '__tablename__ = "people"')
    users.edit_models('db.ForeignKey("users.id")', 'db.ForeignKey("people.id")')
    code, screen = users.manage_on_terminal("db", "migrate", "-m", "people", answers=[
        ("Did you rename table users to people? [y/N]", "y")])
    assert code == 0, screen
    assert "data will be lost" not in screen
    [name] = [n for n in users.revision_files() if n.endswith("_people.py")]
    script = (users.root / "migrations" / "versions" / name).read_text()
    assert "op.rename_table('users', 'people')" in script
    assert "op.rename_table('people', 'users')" in script
    assert "drop_table" not in script

    def users_back():
        assert "users" in users.tables() and "people" not in users.tables()
        assert execute(users, "SELECT name FROM users ORDER BY id") == [("Ann",), ("Bob",)]

    round_trip(users, at_old_revision=users_back, lint=["rename-table"])
    assert "users" not in users.tables()
    assert execute(users, "SELECT name, email FROM people ORDER BY id") == USERS
    assert execute(users, "SELECT people.name FROM posts JOIN people "
                          "ON people.id = posts.user_id") == [("Bob",)]
    assert refused(users, "INSERT INTO people (name, email) VALUES ('Ann', 'ann@example.com')")
    if backend != "sqlite":
        assert refused(users, "INSERT INTO posts (user_id) VALUES (999)")


def test_without_a_terminal_a_dropped_not_null_column_comes_back_nullable(users):
    """No one to ask: the rename is not guessed (drop + add, with a warning),
    and the downgrade adds the dropped NOT NULL column back nullable, since
    its rows would have no value (a warning says so)."""
    users.edit_models(NAME_COLUMN, 'name = db.Column("full_name", db.String(128))')
    result = assert_ok(users.manage("db", "migrate", "-m", "full name"))
    assert "warning: users.name is dropped: its data will be lost" in result.stderr
    assert ("warning: users.name is NOT NULL without a server_default: the downgrade "
            "adds it back nullable, without its values") in result.stderr
    before, after = phase_files(users, "full_name")
    assert "add_column" in before and "drop_column('name')" not in before
    assert "drop_column('name')" in after and "add_column" in after  # and back

    def names_gone():
        assert execute(users, "SELECT name FROM users") == [(None,), (None,)]

    # The drop runs after the deploy, when no running code reads the column.
    round_trip(users, at_old_revision=names_gone)
    assert execute(users, "SELECT email, full_name FROM users ORDER BY id") == [
        (email, None) for _, email in USERS]


NULLABLE_NICKNAME = "    nickname = db.Column(db.String(64))"


def users_with_a_nickname_column(project):
    """The users with a nullable nickname column: Ann's 'annie', Bob's NULL."""
    project.add_to_model(NULLABLE_NICKNAME)
    assert_ok(project.manage("db", "migrate", "-m", "nickname"))
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "UPDATE users SET nickname = 'annie' WHERE name = 'Ann'")
    project.edit_models(NULLABLE_NICKNAME, NICKNAME)


def test_a_column_made_not_null_gets_a_value_where_it_is_null_at_a_terminal(users):
    users_with_a_nickname_column(users)
    code, screen = users.manage_on_terminal("db", "migrate", "-m", "nickname required",
                                            answers=[(NEW_NOT_NULL_PROMPT, "'anon'")])
    assert code == 0, screen
    assert "users.nickname becomes NOT NULL, so the rows of users that hold NULL" in screen
    round_trip(users)
    assert execute(users, "SELECT name, nickname FROM users ORDER BY id") == [
        ("Ann", "annie"), ("Bob", "anon")]
    assert refused(users, "UPDATE users SET nickname = NULL WHERE name = 'Ann'")


def test_without_a_terminal_a_column_made_not_null_is_written_with_a_warning(users, backend):
    users_with_a_nickname_column(users)
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname required"))
    assert ("warning: users.nickname becomes NOT NULL: the upgrade fails if a row holds "
            "NULL in it") in result.stderr
    script = written(users, result)
    assert "UPDATE" not in script and "backfill" not in script
    if backend == "postgresql":
        assert "op.set_not_null_online('users', 'nickname'" in script
    else:
        assert "nullable=False" in script


def test_an_empty_answer_for_the_one_off_value_stops_without_a_revision(users):
    users.add_to_model(NICKNAME)
    before = users.revision_files()
    code, screen = users.manage_on_terminal("db", "migrate", "-m", "nickname",
                                            answers=[(NEW_NOT_NULL_PROMPT, "")])
    assert code == 1, screen
    assert "stopped at users.nickname; no revision was written" in screen
    assert "Traceback" not in screen
    assert users.revision_files() == before


LENGTHLESS_TAGS = '''

class Tag(db.Model):
    __tablename__ = "tags"
    id = db.Column(db.Integer, primary_key=True)
    label = db.Column(db.String)
'''
ADDRESS_COLUMN = "address = db.Column(db.String(64), nullable=False)"


def make_lengthless_string(project, change):
    """A model change that makes a String column without a length, by
    `change`; return that column as table.column."""
    if change == "add_column":
        project.add_to_model("    nickname = db.Column(db.String, nullable=True)")
        return "users.nickname"
    if change == "create_table":
        models = project.root / "app" / "models.py"
        models.write_text(models.read_text() + LENGTHLESS_TAGS)
        return "tags.label"
    project.edit_models(ADDRESS_COLUMN, ADDRESS_COLUMN.replace("db.String(64)", "db.String"))
    return "sign_in_failures.address"


def migrate_through(project, door):
    """db migrate through `door`: manage.py, flask or the raw alembic command."""
    if door == "manage.py":
        return project.manage("db", "migrate", "-m", "lengthless")
    if door == "flask":
        return project.flask("db", "migrate", "-m", "lengthless")
    return project.alembic("revision", "--autogenerate", "-m", "lengthless")


@pytest.mark.backends("mysql")
@pytest.mark.parametrize("door, change", [
    ("manage.py", "add_column"), ("manage.py", "create_table"), ("manage.py", "alter_column"),
    ("flask", "add_column"), ("alembic", "add_column")])
def test_a_string_without_a_length_is_refused_on_mariadb(users, door, change):
    column = make_lengthless_string(users, change)
    before = users.revision_files()
    result = migrate_through(users, door)
    if door == "alembic":  # alembic's own exit code for a CommandError
        assert result.returncode != 0
    else:
        assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert ("{} is a String without a length, which MariaDB and MySQL cannot create "
            "(VARCHAR needs one); give it one, e.g. db.String(80), then run db migrate "
            "again; no revision was written".format(column)) in line
    assert "Traceback" not in result.stderr
    assert users.revision_files() == before


# (Alembic sees no type change from VARCHAR(64) to a VARCHAR without a
# length on SQLite and PostgreSQL, so alter_column is MariaDB's case only.)
@pytest.mark.backends("sqlite", "postgresql")
@pytest.mark.parametrize("change", ["add_column", "create_table"])
def test_a_string_without_a_length_is_written_with_a_warning_elsewhere(users, backend, change):
    column = make_lengthless_string(users, change)
    result = assert_ok(users.manage("db", "migrate", "-m", "lengthless"))
    assert ("warning: {} is a String without a length: the revision runs on {}, but fails "
            "on MariaDB and MySQL (VARCHAR needs one); give it one, e.g. "
            "db.String(80)".format(column, backend)) in result.stderr
    assert "sa.String()" in written(users, result)
    assert_ok(users.manage("db", "upgrade"))


@pytest.mark.backends("mysql")
def test_db_check_lists_a_string_without_a_length_as_a_change_on_mariadb(users):
    make_lengthless_string(users, "alter_column")
    result = users.manage("db", "check")
    assert result.returncode == 1
    assert "modify_type sign_in_failures.address: VARCHAR(length=64) -> String()" in result.stdout
    assert "Traceback" not in result.stderr
