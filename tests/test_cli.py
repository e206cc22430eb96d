"""python manage.py ... run as a subprocess in a copy of the project: exit
codes, output, and the database afterwards."""
import re
import subprocess
import sys

import pytest

from tests.support import assert_ok, committed_revisions, error_lines, get

REVISIONS = [revision for revision, _ in committed_revisions()]
HEAD = REVISIONS[-1]
# alembic's version table, and ours of revisions that did not finish.
BOOKKEEPING = {"alembic_version", "migration_log"}
DB_COMMANDS = ("init", "revision", "migrate", "edit", "merge", "upgrade", "downgrade",
               "show", "history", "heads", "branches", "current", "stamp", "check",
               "createdb")


def new_revision_id(result):
    """The revision id in alembic's "Generating .../[<date>_]<id>_<slug>.py" line."""
    match = re.search(r"Generating \S+/(?:\d{4}_\d\d_\d\d_\d{6}_)?([0-9a-f]{12})_\w*\.py",
                      result.stdout)
    assert match, result.stdout
    return match.group(1)


def test_db_help_lists_every_command(project):
    result = assert_ok(project.manage("db", "--help"))
    for name in DB_COMMANDS:
        assert re.search(r"^\s+{}\s".format(name), result.stdout, re.M), name


def test_upgrade_applies_the_committed_history(project):
    result = assert_ok(project.manage("db", "upgrade"))
    assert "Running upgrade 2106bb02c0f0 -> 1d419a1b9cc6" in result.stderr
    assert project.tables() == {"users", "api_tokens", "sign_in_failures"} | BOOKKEEPING
    assert project.columns("users") == [
        "id", "name", "email", "role", "created_at", "updated_at", "password_hash"]
    assert project.version() == [HEAD]


def test_the_email_backfill_reports_its_progress(project):
    assert_ok(project.manage("db", "upgrade", REVISIONS[0]))
    with project.engine() as engine, engine.begin() as connection:
        for n in range(1, 101):
            connection.exec_driver_sql(
                "INSERT INTO users (id, name) VALUES ({}, 'n')".format(n * 1000))
    result = assert_ok(project.manage("db", "upgrade"))
    assert "INFO  [alembic.revision.{}] email backfill: 100/100 rows, done".format(
        REVISIONS[1]) in result.stderr


def test_current_history_and_heads_describe_the_history(project):
    assert_ok(project.manage("db", "upgrade", REVISIONS[1]))
    current = assert_ok(project.manage("db", "current"))
    assert current.stdout.strip() == REVISIONS[1]
    history = assert_ok(project.manage("db", "history")).stdout
    for revision in REVISIONS:
        assert revision in history
    assert "(head)" in history
    heads = assert_ok(project.manage("db", "heads")).stdout
    assert heads.strip() == HEAD + " (head)"
    assert_ok(project.manage("db", "upgrade"))
    assert assert_ok(project.manage("db", "current")).stdout.strip() == HEAD + " (head)"


def test_downgrade_to_a_revision_then_to_base(project):
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("db", "downgrade", REVISIONS[1]))
    assert project.columns("users") == ["id", "name", "email"]
    assert project.version() == [REVISIONS[1]]
    assert_ok(project.manage("db", "downgrade", "base"))
    assert project.tables() == BOOKKEEPING
    assert project.version() == []


def test_downgrade_without_argument_goes_back_one_revision(project):
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("db", "downgrade"))
    assert project.version() == [REVISIONS[-2]]


def test_stamp_records_a_revision_without_running_it(project):
    assert_ok(project.manage("db", "stamp", "head"))
    assert project.version() == [HEAD]
    assert "users" not in project.tables()


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("url, expected", [
    ("postgresql://app:s3cret@127.0.0.1:1/app", [
        "CREATE TABLE users",
        "CREATE TYPE user_role AS ENUM ('super_user', 'admin', 'user');",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"]),
    ("mysql+pymysql://app:s3cret@127.0.0.1:1/app", [
        "CREATE TABLE users",
        "ALTER TABLE users ADD COLUMN `role` ENUM('super_user','admin','user') "
        "NOT NULL DEFAULT 'user';",
        "ALTER TABLE users MODIFY email VARCHAR(255) NOT NULL;"]),
])
def test_upgrade_sql_prints_a_servers_ddl_without_connecting(project, url, expected):
    # Port 1 has no server: the SQL is rendered from the URL's dialect alone.
    result = assert_ok(project.manage("db", "upgrade", "--sql", env={"DATABASE_URL": url}))
    for statement in expected:
        assert statement in result.stdout
    assert "UPDATE alembic_version SET version_num='{}'".format(HEAD) in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


@pytest.mark.backends("sqlite")
def test_upgrade_sql_on_sqlite_explains_that_batch_mode_needs_a_database(project):
    result = project.manage("db", "upgrade", "--sql")
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert "batch mode with dialect sqlite requires a live database connection" in line
    assert project.tables() == set()


def test_migrate_with_no_model_change_writes_no_revision(project):
    assert_ok(project.manage("db", "upgrade"))
    before = project.revision_files()
    result = assert_ok(project.manage("db", "migrate", "-m", "nothing"))
    assert "No changes in schema detected." in result.stderr
    assert project.revision_files() == before
    # alembic 1.18+ says "setting up autogenerate plugin ..." six times a run.
    assert "autogenerate plugin" not in result.stderr
    assert "autogenerate plugin" not in assert_ok(project.manage("db", "check")).stderr


def test_a_new_repository_from_init_to_downgrade_base(project):
    """The tutorial workflow: init, migrate, upgrade, change the model,
    migrate and upgrade again, then walk back down."""
    assert_ok(project.manage("db", "init", "-d", "fresh"))
    # The repository comes from the app's template: its env.py is the app's.
    assert "from app.migrating.env import run" in (project.root / "fresh" / "env.py").read_text()
    assert "[logger_flask_migrate]" in (project.root / "fresh" / "alembic.ini").read_text()

    first = assert_ok(project.manage("db", "migrate", "-d", "fresh", "-m", "create users"))
    first_id = new_revision_id(first)
    [script] = project.revision_files("fresh")
    assert "op.create_table('users'" in (project.root / "fresh" / "versions" / script).read_text()
    assert_ok(project.manage("db", "upgrade", "-d", "fresh"))
    assert "users" in project.tables()
    assert "nickname" not in project.columns("users")

    project.add_to_model("    nickname = db.Column(db.String(64))")
    second = assert_ok(project.manage("db", "migrate", "-d", "fresh", "-m", "add nickname"))
    second_id = new_revision_id(second)
    script = next(name for name in project.revision_files("fresh") if second_id in name)
    text = (project.root / "fresh" / "versions" / script).read_text()
    assert "batch_op.add_column(sa.Column('nickname', sa.String(length=64)" in text
    assert_ok(project.manage("db", "upgrade", "-d", "fresh"))
    assert "nickname" in project.columns("users")

    history = assert_ok(project.manage("db", "history", "-d", "fresh")).stdout
    assert "{} -> {} (head), add nickname".format(first_id, second_id) in history
    current = assert_ok(project.manage("db", "current", "-d", "fresh")).stdout
    assert current.strip() == second_id + " (head)"

    assert_ok(project.manage("db", "downgrade", "-d", "fresh", first_id))
    assert "nickname" not in project.columns("users")
    assert project.version() == [first_id]
    assert_ok(project.manage("db", "downgrade", "-d", "fresh", "base"))
    assert project.tables() == BOOKKEEPING
    # The downgrade took users.role's enum type with it (PostgreSQL), so the
    # history upgrades again and comes back down.
    assert_ok(project.manage("db", "upgrade", "-d", "fresh"))
    assert project.version() == [second_id]
    assert_ok(project.manage("db", "downgrade", "-d", "fresh", "base"))
    assert_ok(project.manage("db", "stamp", "-d", "fresh", "head"))
    assert project.version() == [second_id]


def test_merge_joins_two_branches_into_one_head(project):
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("db", "revision", "-m", "branch a", "--rev-id", "aaaa0001"))
    assert_ok(project.manage("db", "revision", "-m", "branch b", "--rev-id", "bbbb0001",
                             "--head", HEAD, "--splice"))
    heads = assert_ok(project.manage("db", "heads")).stdout
    assert "aaaa0001 (head)" in heads and "bbbb0001 (head)" in heads

    refused = project.manage("db", "upgrade")
    assert refused.returncode == 1
    assert "Multiple head revisions" in refused.stderr
    assert project.version() == [HEAD]

    merged = assert_ok(project.manage("db", "merge", "heads", "-m", "merge a and b",
                                      "--rev-id", "cccc0001"))
    assert "cccc0001" in merged.stdout
    assert assert_ok(project.manage("db", "heads")).stdout.strip() == "cccc0001 (head)"
    assert "aaaa0001, bbbb0001" in assert_ok(project.manage("db", "branches")).stdout + \
        assert_ok(project.manage("db", "history")).stdout
    assert_ok(project.manage("db", "upgrade"))
    assert project.version() == ["cccc0001"]


def test_show_describes_a_revision(project):
    result = assert_ok(project.manage("db", "show", REVISIONS[1]))
    assert "Rev: " + REVISIONS[1] in result.stdout
    assert "add users.email" in result.stdout


def test_check_is_clean_at_head(project):
    assert_ok(project.manage("db", "upgrade"))
    result = assert_ok(project.manage("db", "check"))
    assert "No changes: the models match the migrations." in result.stdout


def test_check_lists_a_model_change_and_exits_1(project):
    assert_ok(project.manage("db", "upgrade"))
    project.add_to_model("    nickname = db.Column(db.String(64))")
    result = project.manage("db", "check")
    assert result.returncode == 1
    assert "db migrate" in result.stdout
    assert "add_column" in result.stdout and "nickname" in result.stdout


def test_check_on_a_database_behind_head_says_to_upgrade(project):
    assert_ok(project.manage("db", "upgrade", REVISIONS[0]))
    result = project.manage("db", "check")
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        'error: the database is not at head: run "python manage.py db upgrade" first']


def test_shell_has_app_db_and_user(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    result = assert_ok(project.manage(
        "shell", input="print(app.name, db.engine.dialect.name, User.__tablename__, "
                       "User.query.count())\n"))
    assert "app {} users 0".format(backend) in result.stdout


# Bad input: a non-zero exit, one line on stderr naming the problem, no
# traceback, and the database as it was.
BAD_INPUT = [
    (("db", "upgrade", "nosuchrev"), {},
     "No such revision or branch 'nosuchrev'"),
    (("db", "show", "nosuchrev"), {},
     "Can't locate revision identified by 'nosuchrev'"),
    (("db", "downgrade", "abcdef999999"), {},
     "No such revision or branch 'abcdef999999'"),
    (("db", "upgrade", "1"), {},
     "Multiple revisions start with '1'"),
    (("db", "stamp", "1"), {},
     "Multiple revisions start with '1'"),
    (("db", "init"), {},
     "already exists and is not empty"),
    (("db", "upgrade"), {"DATABASE_URL": "postgresql://nobody:s3cret@127.0.0.1:1/app"},
     'cannot connect to database "app" on 127.0.0.1:1 as user "nobody"'),
    (("db", "current"), {"DATABASE_URL": "this is not a url"},
     "DATABASE_URL is not a database URL"),
    (("db", "upgrade"), {"DATABASE_URL": "postgres://app@localhost/app"},
     "write postgresql:// instead"),
    (("db", "upgrade"), {"DATABASE_URL": "oracle+nosuch://app@localhost/app"},
     "DATABASE_URL names an unknown database"),
    (("db", "upgrade"), {"DATABASE_URL": "mysql+mysqldb://app@localhost/app"},
     "the database driver MySQLdb is not installed"),
    (("db", "upgrade"), {"DB_HOST": "db.internal", "DB_NAME": "app"},
     "both DATABASE_URL and DB_HOST, DB_NAME are set"),
    (("db", "upgrade"), {"DATABASE_URL": "", "DB_DRIVER": "postgresql", "DB_PORT": "x"},
     "DB_PORT='x' is not a port number"),
    (("db", "upgrade"), {"SQLALCHEMY_BINDS": "audit=sqlite://"},
     "SQLALCHEMY_BINDS is not a JSON object of names and URLs"),
    (("db", "upgrade"), {"SQLALCHEMY_BINDS": '{"audit": "nonsense"}'},
     "SQLALCHEMY_BINDS['audit'] is not a database URL"),
    (("db", "upgrade"), {"FLASK_CONFIG": "staging"},
     "FLASK_CONFIG='staging' is not a configuration"),
    (("db", "upgrade"), {"FLASK_CONFIG": "production"},
     "SECRET_KEY is not set"),
]


BAD_INPUT_IDS = [" ".join(args) + " " + " ".join(env.values()) for args, env, _ in BAD_INPUT]
# The same commands through the other doors: `flask db ...`, and the raw
# `alembic ...` (which has no `db` group, wants `upgrade head` spelled out,
# and whose init is another command).
DOORS = {
    "flask": lambda project, args, env: project.flask(*args, env=env),
    "alembic": lambda project, args, env: project.alembic(
        *(args[1:] if args != ("db", "upgrade") else ("upgrade", "head")), env=env),
}
# alembic reports its own errors its own way: "FAILED: <message>" on stdout,
# exit code 255, and, once env.py has configured logging, the same message
# logged on stderr. That is one line of news, said in alembic's words.
ALEMBIC_LOGGED_ERROR = "ERROR [alembic.util.messaging] "
OTHER_DOORS = [(door, args, env, message) for door in DOORS
               for args, env, message in BAD_INPUT
               if not (door == "alembic" and args[1] == "init")]


@pytest.mark.parametrize("args, env, message", BAD_INPUT, ids=BAD_INPUT_IDS)
def test_bad_input_fails_in_one_line_and_changes_nothing(project, args, env, message):
    assert_one_line_failure_changing_nothing(
        project, lambda: project.manage(*args, env=env), message)


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door, args, env, message", OTHER_DOORS,
                         ids=["{}: {} {}".format(door, " ".join(args), " ".join(env.values()))
                              for door, args, env, _ in OTHER_DOORS])
def test_bad_input_through_flask_and_alembic_fails_in_one_line_too(
        project, door, args, env, message):
    assert_one_line_failure_changing_nothing(
        project, lambda: DOORS[door](project, args, env), message,
        lines=alembic_error_lines if door == "alembic" else None)


def alembic_error_lines(result):
    return ([line for line in error_lines(result.stderr)
             if not line.startswith(ALEMBIC_LOGGED_ERROR)]
            + [line for line in result.stdout.splitlines() if line.startswith("FAILED: ")])


def assert_one_line_failure_changing_nothing(project, run, message, lines=None):
    assert_ok(project.manage("db", "upgrade", REVISIONS[1]))
    before = (project.tables(), project.version(), project.revision_files())

    result = run()

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = (lines or (lambda result: error_lines(result.stderr)))(result)
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "s3cret" not in result.stdout + result.stderr
    assert (project.tables(), project.version(), project.revision_files()) == before


@pytest.mark.backends("sqlite")
def test_an_unreachable_sqlite_path_fails_in_one_line(project, tmp_path):
    (tmp_path / "a-file").write_text("")
    url = "sqlite:///" + str(tmp_path / "a-file" / "app.db")
    result = project.manage("db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "error: cannot connect to the SQLite database {}: unable to open database "
        "file".format(url[len("sqlite:///"):])]


def test_errors_stay_visible_without_the_flask_migrate_logger_section(project):
    """Flask-Migrate reports alembic errors through its logger; the message
    must reach stderr even if alembic.ini loses [logger_flask_migrate]."""
    ini = project.root / "migrations" / "alembic.ini"
    text = ini.read_text()
    text = text.replace("keys = root,sqlalchemy,alembic,flask_migrate",
                        "keys = root,sqlalchemy,alembic")
    text = re.sub(r"(?m)^\[logger_flask_migrate\][^\[]*", "", text)
    assert not re.search(r"(?m)^\[logger_flask_migrate\]", text)
    ini.write_text(text)
    result = project.manage("db", "upgrade", "nosuchrev")
    assert result.returncode == 1
    assert "No such revision or branch 'nosuchrev'" in result.stderr


def test_a_malformed_alembic_ini_fails_in_one_line(project):
    ini = project.root / "migrations" / "alembic.ini"
    ini.write_text("this is not an ini file\n" + ini.read_text())
    result = project.manage("db", "upgrade")
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "error: cannot read {}: File contains no section headers.".format(ini)]
    assert project.tables() == set()


def test_runserver_warns_when_migrations_are_pending(project):
    assert_ok(project.manage("db", "upgrade", REVISIONS[1]))
    with project.runserver() as server:
        status, body = server.wait()
    assert status == 503
    assert '"pending"' in body
    assert 'warning: {} unapplied migration(s): run "python manage.py db upgrade"'.format(
        len(REVISIONS) - 2) in server.stdout + server.stderr


def test_runserver_at_head_serves_the_page_without_warning(project):
    assert_ok(project.manage("db", "upgrade"))
    with project.runserver() as server:
        health = server.wait()
        page = get(server.url + "/")
    output = server.stdout + server.stderr
    assert health[0] == 200
    # Signed out, the page sends the browser to the sign-in page, which on a
    # database without accounts says how to make the first one.
    assert page[0] == 200 and "<h1>Sign in</h1>" in page[1]
    assert "No account can sign in yet" in page[1]
    assert "python manage.py create_user" in page[1]
    assert "unapplied migration" not in output
    assert "Debug mode: off" in output


def test_a_revision_whose_down_revision_is_missing_fails_in_one_line(project):
    assert_ok(project.manage("db", "upgrade"))
    (project.root / "migrations" / "versions" / "orphan.py").write_text(
        'revision = "b0b0b0b0b0b0"\ndown_revision = "deadbeefdead"\n'
        "def upgrade():\n    pass\n\ndef downgrade():\n    pass\n")
    for command in ("upgrade", "heads", "history"):
        result = project.manage("db", command)
        assert result.returncode == 1
        [line] = error_lines(result.stderr)
        assert line.startswith("error: the migration history is broken: Revision deadbeefdead")
        assert "down_revision" in line
    assert project.version() == [HEAD]


@pytest.mark.backends("sqlite")
def test_output_piped_into_a_reader_that_stops_ends_without_a_traceback(project):
    """`db log | head`: the reader goes away before the output is written."""
    assert_ok(project.manage("db", "upgrade"))
    process = subprocess.Popen([sys.executable, "manage.py", "db", "log"], cwd=str(project.root),
                               env=project.environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(timeout=60) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr
    assert error_lines(stderr) == []
