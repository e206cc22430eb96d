"""On MariaDB, an ALTER TABLE that the server can only run by copying the
table goes through pt-online-schema-change during `db upgrade` and `db
downgrade` when the table holds ONLINE_COPY_MIN_ROWS rows or more
(app/migrating/online/table_copy.py): every row kept, the change made, the
app's writes never held for the copy; below that the plain ALTER runs;
what the tool cannot copy, and a missing tool, are refused in one line with
the table unchanged; what a killed run left is removed by the next one.
The real tool on the real server, on tables of a few thousand rows with the
threshold lowered."""
import re
import shutil
import subprocess
import time
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests import backends
from tests.support import assert_ok, error_lines
from tests.test_autogenerate import assert_clean, execute
from tests.test_online import migrate

ROWS = 3000
# Low enough that the tool copies the test's users table.
THRESHOLD = {"ONLINE_COPY_MIN_ROWS": "1000"}
TOOL = "pt-online-schema-change"
TOOL_RAN = "so pt-online-schema-change copies it while the app writes"
# Its last progress line (the rows are the tool's estimate, from the
# table's statistics).
TOOL_DONE = re.compile(r"^pt-online-schema-change users: 100% \(\d+ rows\)$", re.M)
OLD_ROLES = 'ROLES = ("super_user", "admin", "user")'
INTEGER_ID = "id = db.Column(db.Integer, primary_key=True)"
BIG_ID = "id = db.Column(db.BigInteger, primary_key=True)"
# Every value of every row, in one number.
CONTENT = ("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, name, email, role, created_at, "
           "updated_at))) FROM users")

pytestmark = pytest.mark.backends("mysql")


@pytest.fixture
def tool():
    """pt-online-schema-change, which these tests run for real: skipped
    without it, a failure under REQUIRE_ALL_BACKENDS=1 (CI installs it)."""
    if shutil.which(TOOL) is None:
        reason = TOOL + " is not installed (apt-get install percona-toolkit)"
        if backends.require_all():
            pytest.fail("REQUIRE_ALL_BACKENDS=1 but " + reason, pytrace=False)
        pytest.skip(reason)


@pytest.fixture
def users(project):
    """The project's database at head, its users table holding ROWS users."""
    assert_ok(project.manage("db", "upgrade"))
    with project.engine() as engine, engine.begin() as connection:
        connection.execute(text("INSERT INTO users (name, email) VALUES (:name, :email)"),
                           [{"name": "user {}".format(n), "email": "u{}@example.com".format(n)}
                            for n in range(1, ROWS + 1)])
    return project


def column_type(project, table, column):
    return execute(project, "SELECT column_type FROM information_schema.columns WHERE "
                            "table_schema = DATABASE() AND table_name = '{}' AND "
                            "column_name = '{}'".format(table, column))[0][0]


def tool_leftovers(project):
    """The tool's tables and triggers still in the database."""
    tables = execute(project, "SELECT table_name FROM information_schema.tables WHERE "
                              "table_schema = DATABASE() AND table_name LIKE '\\_%'")
    triggers = execute(project, "SELECT trigger_name FROM information_schema.triggers "
                                "WHERE trigger_schema = DATABASE()")
    return [row[0] for row in tables + triggers]


def one_line(result):
    """The one line a failed command printed, besides the tool's progress and
    what it said it would do (TOOL_RAN, a warning on this server)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in error_lines(result.stderr)
              if not line.startswith(TOOL + " users: ") and TOOL_RAN not in line]
    return line


def with_revision(project, upgrade, downgrade="pass"):
    """A revision after head running `upgrade`; its id."""
    project.add_revision("7ab1e0c0de01", project.version()[0], upgrade, downgrade)
    return "7ab1e0c0de01"


def test_a_type_change_is_copied_by_the_tool_both_ways_with_every_row_kept(users, tool):
    before = execute(users, CONTENT)
    users.edit_models(INTEGER_ID, BIG_ID)
    _, script = migrate(users, "big ids")
    assert "type_=sa.BigInteger()" in script
    upgraded = assert_ok(users.manage("db", "upgrade", env=THRESHOLD))
    assert TOOL_RAN in upgraded.stderr and TOOL_DONE.search(upgraded.stderr)
    if execute(users, "SELECT @@innodb_autoinc_lock_mode") != [(2,)]:
        assert "innodb_autoinc_lock_mode = 2 in the server's configuration avoids that" \
            in upgraded.stderr
    assert column_type(users, "users", "id").startswith("bigint")
    assert execute(users, CONTENT) == before
    assert tool_leftovers(users) == []
    assert_clean(users)

    downgraded = assert_ok(users.manage("db", "downgrade", "-1", env=THRESHOLD))
    assert TOOL_DONE.search(downgraded.stderr)
    assert column_type(users, "users", "id").startswith("int")
    assert execute(users, CONTENT) == before
    execute(users, "INSERT INTO users (name, email) VALUES ('new', 'new@example.com')")
    assert execute(users, "SELECT MAX(id) FROM users") == [(ROWS + 1,)]


def test_an_enum_value_removed_is_copied_by_the_tool(users, tool):
    users.edit_models(OLD_ROLES, 'ROLES = ("super_user", "user")')
    migrate(users, "no admins")
    upgraded = assert_ok(users.manage("db", "upgrade", "-x", "online_copy_min_rows=1000"))
    assert TOOL_DONE.search(upgraded.stderr)
    assert column_type(users, "users", "role") == "enum('super_user','user')"
    assert execute(users, "SELECT role, COUNT(*) FROM users GROUP BY role") == [
        ("user", ROWS)]


def test_rows_holding_a_removed_enum_value_refuse_the_copy_and_a_rerun_finishes(users, tool):
    execute(users, "UPDATE users SET role = 'admin' WHERE id = 7")
    before = execute(users, CONTENT)
    users.edit_models(OLD_ROLES, 'ROLES = ("super_user", "user")')
    migrate(users, "no admins")
    line = one_line(users.manage("db", "upgrade", env=THRESHOLD))
    assert "ALTER TABLE users would change values of rows it copies (Data truncated for " \
           "column 'role' at row" in line
    assert "the table is unchanged: fix those rows, then run the command again" in line
    assert execute(users, CONTENT) == before
    assert tool_leftovers(users) == []

    execute(users, "UPDATE users SET role = 'user' WHERE id = 7")
    assert TOOL_DONE.search(assert_ok(users.manage("db", "upgrade", env=THRESHOLD)).stderr)
    assert column_type(users, "users", "role") == "enum('super_user','user')"


def test_below_the_threshold_the_plain_alter_copies_the_table(users):
    before = execute(users, CONTENT)
    users.edit_models(INTEGER_ID, BIG_ID)
    migrate(users, "big ids")
    upgraded = assert_ok(users.manage("db", "upgrade"))
    assert "{} rows, fewer than ONLINE_COPY_MIN_ROWS=10000, so the plain ALTER".format(
        ROWS) in upgraded.stderr
    assert TOOL not in upgraded.stderr.replace("ONLINE_COPY_MIN_ROWS", "")
    assert column_type(users, "users", "id").startswith("bigint")
    assert execute(users, CONTENT) == before


def test_an_alter_the_server_runs_in_place_does_not_run_the_tool(users):
    users.add_to_model("    nickname = db.Column(db.String(64))")
    migrate(users, "nickname")
    upgraded = assert_ok(users.manage("db", "upgrade", env={"ONLINE_COPY_MIN_ROWS": "0"}))
    assert TOOL not in upgraded.stderr
    assert column_type(users, "users", "nickname") == "varchar(64)"


def test_a_script_of_the_change_holds_the_plain_alter(users):
    users.edit_models(INTEGER_ID, BIG_ID)
    migrate(users, "big ids")
    script = assert_ok(users.manage("db", "upgrade", "--sql",
                                    "{}:head".format(users.version()[0]))).stdout
    assert "ALTER TABLE users MODIFY id BIGINT NOT NULL AUTO_INCREMENT;" in script
    assert "ALGORITHM" not in script


def test_a_threshold_that_is_not_a_number_of_rows_is_refused_in_one_line(users):
    users.edit_models(INTEGER_ID, BIG_ID)
    migrate(users, "big ids")
    line = one_line(users.manage("db", "upgrade", env={"ONLINE_COPY_MIN_ROWS": "lots"}))
    assert "ONLINE_COPY_MIN_ROWS 'lots' is not a number of rows: set ONLINE_COPY_MIN_ROWS " \
           "or -x online_copy_min_rows=N" in line
    assert column_type(users, "users", "id").startswith("int")


@pytest.mark.parametrize("missing", [{"PT_ONLINE_SCHEMA_CHANGE": "/nowhere/" + TOOL},
                                     {"PATH": "/nowhere"}])
def test_without_the_tool_a_copy_of_a_big_table_is_refused_in_one_line(users, missing):
    users.edit_models(INTEGER_ID, BIG_ID)
    migrate(users, "big ids")
    line = one_line(users.manage("db", "upgrade", env=dict(THRESHOLD, **missing)))
    assert "ALTER TABLE users copies the table (cannot change column type), holding its " \
           "writes until the copy of its 1000 or more rows ends, and pt-online-schema-" \
           "change that copies it online is not installed: install it (apt-get install " \
           "percona-toolkit) or set PT_ONLINE_SCHEMA_CHANGE to its path" in line
    assert column_type(users, "users", "id").startswith("int")


def test_a_table_with_triggers_is_refused_in_one_line(users, tool):
    execute(users, "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW "
                   "SET NEW.name = NEW.name")
    with_revision(users, 'op.execute("ALTER TABLE users MODIFY name VARCHAR(100) NOT NULL")')
    line = one_line(users.manage("db", "upgrade", env=THRESHOLD))
    assert "table users has triggers (users_touch), and pt-online-schema-change copies a " \
           "table through triggers of its own: drop them before this change" in line
    assert column_type(users, "users", "name") == "varchar(128)"


def test_a_table_other_tables_reference_is_refused_in_one_line(users, tool):
    execute(users, "CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL, "
                   "CONSTRAINT fk_posts_user_id_users FOREIGN KEY (user_id) "
                   "REFERENCES users (id))")
    with_revision(users, 'op.execute("ALTER TABLE users MODIFY name VARCHAR(100) NOT NULL")')
    line = one_line(users.manage("db", "upgrade", env=THRESHOLD))
    assert "foreign keys of other tables reference users (posts.fk_posts_user_id_users)" \
           in line and "op.create_foreign_key_online" in line
    assert column_type(users, "users", "name") == "varchar(128)"


def test_the_tables_own_foreign_keys_keep_their_names(users, tool):
    execute(users, "CREATE TABLE teams (id INT PRIMARY KEY)")
    execute(users, "INSERT INTO teams VALUES (1), (2)")
    execute(users, "ALTER TABLE users ADD COLUMN team_id INT, ADD CONSTRAINT "
                   "fk_users_team_id_teams FOREIGN KEY (team_id) REFERENCES teams (id)")
    execute(users, "UPDATE users SET team_id = 1 + id % 2")
    with_revision(users, 'op.execute("ALTER TABLE users MODIFY name VARCHAR(100) NOT NULL")')
    assert TOOL_DONE.search(assert_ok(users.manage("db", "upgrade", env=THRESHOLD)).stderr)
    assert execute(users, "SELECT constraint_name FROM information_schema.table_constraints "
                          "WHERE table_schema = DATABASE() AND table_name = 'users' AND "
                          "constraint_type = 'FOREIGN KEY'") == [("fk_users_team_id_teams",)]
    with pytest.raises(DBAPIError):
        execute(users, "UPDATE users SET team_id = 3 WHERE id = 1")


def test_what_a_killed_run_of_the_tool_left_is_removed_and_a_rerun_finishes(users, tool):
    before = execute(users, CONTENT)
    users.edit_models(INTEGER_ID, BIG_ID)
    migrate(users, "big ids")
    # What the tool leaves when it stops after its copy: its new table,
    # and its triggers writing into it.
    database = users.database_url.rsplit("/", 1)[1]
    subprocess.run([TOOL, "--alter", "ENGINE=InnoDB", "--execute", "--no-version-check",
                    "--recursion-method", "none", "--no-swap-tables", "--no-drop-triggers",
                    "--no-drop-new-table", "h=127.0.0.1,u=root,D={},t=users".format(database)],
                   check=True, capture_output=True)
    assert sorted(tool_leftovers(users)) == ["_users_new"] + [
        "pt_osc_{}_users_{}".format(database, kind) for kind in ("del", "ins", "upd")]
    upgraded = assert_ok(users.manage("db", "upgrade", env=THRESHOLD))
    assert "removed what an interrupted pt-online-schema-change run left: pt_osc_" \
           in upgraded.stderr and TOOL_DONE.search(upgraded.stderr)
    assert tool_leftovers(users) == []
    assert column_type(users, "users", "id").startswith("bigint")
    assert execute(users, CONTENT) == before


def test_a_copy_waiting_for_a_lock_too_long_fails_in_one_line_and_a_rerun_finishes(users, tool):
    users.edit_models(INTEGER_ID, BIG_ID)
    revision, _ = migrate(users, "big ids")
    with users.engine() as engine, engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("UPDATE users SET name = name WHERE id = 1"))
        failed = users.manage("db", "upgrade", env=dict(THRESHOLD, TABLE_LOCK_TIMEOUT="1"))
        transaction.rollback()
    line = one_line(failed)
    assert "revision {} (big ids) stopped part-way through its upgrade: pt-online-schema-" \
           "change waited more than 1s for a lock on table users".format(revision) in line
    assert column_type(users, "users", "id").startswith("int")
    assert tool_leftovers(users) == []

    assert TOOL_DONE.search(assert_ok(users.manage("db", "upgrade", env=THRESHOLD)).stderr)
    assert column_type(users, "users", "id").startswith("bigint")


def test_a_string_the_new_type_would_cut_refuses_the_copy_in_one_line(users, tool):
    execute(users, "UPDATE users SET name = REPEAT('x', 120) WHERE id = 9")
    with_revision(users, 'op.execute("ALTER TABLE users MODIFY name VARCHAR(100) NOT NULL")')
    line = one_line(users.manage("db", "upgrade", env=THRESHOLD))
    assert "ALTER TABLE users would change values of rows it copies (Data truncated for " \
           "column 'name' at row" in line and "the table is unchanged" in line
    assert column_type(users, "users", "name") == "varchar(128)"
    assert tool_leftovers(users) == []


def test_a_number_the_new_type_cannot_hold_fails_the_copy_in_one_line(users, tool):
    execute(users, "UPDATE users SET id = 40000 WHERE id = 9")
    with_revision(users, 'op.execute("ALTER TABLE users MODIFY id SMALLINT NOT NULL '
                         'AUTO_INCREMENT")')
    line = one_line(users.manage("db", "upgrade", env=THRESHOLD))
    assert "pt-online-schema-change failed on users: Out of range value for column 'id' " \
           "at row" in line and "the table is unchanged" in line, line
    assert column_type(users, "users", "id").startswith("int")
    assert tool_leftovers(users) == []


@pytest.fixture
def user_with_password(users):
    """A database URL of another user of the test's database, whose password
    holds the characters an option file quotes."""
    name, password = "tc_" + uuid.uuid4().hex[:8], 'p#ss "w\\ord'
    url = make_url(users.database_url)
    execute(users, "CREATE USER '{}'@'%' IDENTIFIED BY '{}'".format(
        name, password.replace("\\", "\\\\")))
    execute(users, "GRANT ALL ON `{}`.* TO '{}'@'%'".format(url.database, name))
    yield "mysql+pymysql://{}:{}@{}:{}/{}".format(name, quote(password, safe=""), url.host,
                                                 url.port, url.database)
    execute(users, "DROP USER '{}'@'%'".format(name))


def test_the_tool_connects_as_the_app_does_with_a_password(users, tool, user_with_password):
    with_revision(users, 'op.execute("ALTER TABLE users MODIFY name VARCHAR(100) NOT NULL")')
    upgraded = assert_ok(users.manage("db", "upgrade", env=dict(
        THRESHOLD, DATABASE_URL=user_with_password)))
    assert TOOL_DONE.search(upgraded.stderr)
    assert column_type(users, "users", "name") == "varchar(100)"


def other_sessions(project, running=""):
    """The database's sessions besides this one's (running a statement that
    starts with `running`, when given)."""
    return execute(project, "SELECT COUNT(*) FROM information_schema.processlist WHERE "
                            "db = DATABASE() AND id <> CONNECTION_ID() AND "
                            "COALESCE(info, '') LIKE '{}%'".format(running))[0][0]


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "still waiting after {} s".format(seconds)
        time.sleep(0.1)


def test_an_upgrade_killed_while_the_tool_runs_ends_it_too_and_a_rerun_finishes(users, tool):
    before = execute(users, CONTENT)
    users.edit_models(INTEGER_ID, BIG_ID)
    migrate(users, "big ids")
    with users.engine() as engine, engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("UPDATE users SET name = name WHERE id = 1"))
        # The tool waits for that transaction to create its triggers.
        upgrade = users.start("db", "upgrade", env=dict(THRESHOLD, TABLE_LOCK_TIMEOUT="60"))
        wait_for(lambda: other_sessions(users, "CREATE TRIGGER") == 1)
        upgrade.kill()
        upgrade.communicate()
        transaction.rollback()
    # The tool, told by the system that db upgrade died, stops as well.
    wait_for(lambda: other_sessions(users) == 0)

    upgraded = assert_ok(users.manage("db", "upgrade", env=THRESHOLD))
    assert TOOL_DONE.search(upgraded.stderr)
    assert tool_leftovers(users) == []
    assert column_type(users, "users", "id").startswith("bigint")
    assert execute(users, CONTENT) == before
