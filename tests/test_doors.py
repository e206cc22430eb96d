"""The three doors to the same migrations, `python manage.py db ...`, `flask
db ...` and the raw `alembic ...`: a broken revision file, or a revision that
fails while it runs, ends each in one line naming the file and line, with
nothing applied; and each door's hints name that door's commands."""
import re
import sys

import click
import pytest
from flask.cli import FlaskGroup
from sqlalchemy.engine import make_url

from app.migrating import doors
from tests.support import assert_ok, committed_revisions, error_lines
from tests.test_databases import missing_database_url  # noqa: F401 (a fixture)

REVISIONS = [revision for revision, _ in committed_revisions()]
HEAD = REVISIONS[-1]
FIRST = REVISIONS[0]
BROKEN = "b0b0b0b0b0b0"
BROKEN_FILE = "migrations/versions/{}_broken.py".format(BROKEN)
# A revision file whose line 4 is `imports` and line 12 `definition`.
BROKEN_TEXT = '''"""a broken revision"""
import sqlalchemy as sa
from alembic import op
{imports}

revision = {revision!r}
down_revision = {head!r}
branch_labels = None
depends_on = None


{definition}
    op.create_table("broken", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("broken")
'''
FIX = "; fix the file and run the command again"
# (imports, definition, the line each door ends in, as a regular expression)
BROKEN_FILES = {
    "misspelt import": (
        "from sqlalchemy.dialects import postresql", "def upgrade():",
        re.escape("error: cannot load revision {}, line 4: ImportError: cannot import name "
                  "'postresql' from 'sqlalchemy.dialects'{}".format(BROKEN_FILE, FIX))),
    "update for upgrade": (
        "", "def update():",
        re.escape("error: cannot load revision {}, line 12: it defines update() but no "
                  "upgrade(){}".format(BROKEN_FILE, FIX))),
    "missing colon": (
        "", "def upgrade()",
        re.escape("error: cannot load revision {}, line 12: SyntaxError: ".format(BROKEN_FILE))
        + ".+" + re.escape(FIX)),
    "NameError at import": (
        "users = sa.table(users_name)", "def upgrade():",
        re.escape("error: cannot load revision {}, line 4: NameError: name 'users_name' is "
                  "not defined{}".format(BROKEN_FILE, FIX))),
}
# Commands that load the revisions, through each door.
LOADING_COMMANDS = [
    ("manage.py", ("db", "upgrade")), ("manage.py", ("db", "history")),
    ("manage.py", ("db", "current")), ("manage.py", ("db", "validate")),
    ("flask", ("db", "upgrade")), ("flask", ("db", "heads")), ("flask", ("db-lint",)),
    ("alembic", ("upgrade", "head")), ("alembic", ("current",)),
    ("alembic", ("stamp", "head")), ("alembic", ("upgrade", "head", "--sql")),
]
# The exit code of a CommandError: alembic's own is 255 (FAILED: ...).
COMMAND_ERROR_EXIT = {"manage.py": 1, "flask": 1, "alembic": 255}
FAILING = "c0c0c0c0c0c0"


def through(project, door, *args, env=None):
    """Run `args` through `door`: manage.py (db ...), flask or alembic."""
    run = {"manage.py": project.manage, "flask": project.flask,
           "alembic": project.alembic}[door]
    return run(*args, env=env)


def upgrade_command(door):
    return {"manage.py": ("db", "upgrade"), "flask": ("db", "upgrade"),
            "alembic": ("upgrade", "head")}[door]


def the_line(result):
    """The one line a failed command printed (alembic prints its FAILED
    line on stdout, and logs the message on stderr too)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in error_lines(result.stderr)
             if not line.startswith("ERROR [alembic.util.messaging]")]
    lines += [line for line in result.stdout.splitlines() if line.startswith("FAILED: ")]
    assert len(lines) == 1, result.stdout + result.stderr
    return lines[0]


# --- a revision file that cannot be loaded ------------------------------------------

@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
@pytest.mark.parametrize("door, args", LOADING_COMMANDS,
                         ids=[" ".join((door,) + args) for door, args in LOADING_COMMANDS])
def test_a_broken_revision_file_ends_every_door_in_one_line_naming_it(project, case, door,
                                                                     args):
    assert_ok(project.manage("db", "upgrade"))
    imports, definition, expected = BROKEN_FILES[case]
    (project.root / BROKEN_FILE).write_text(BROKEN_TEXT.format(
        imports=imports, definition=definition, revision=BROKEN, head=HEAD))

    result = through(project, door, *args)

    assert result.returncode == 1, result.stdout + result.stderr
    assert re.fullmatch(expected, the_line(result)), the_line(result)
    assert project.version() == [HEAD]
    assert "broken" not in project.tables()
    assert BROKEN not in [row["revision"] for row in project.log()]


# The raw alembic commands that read the history without running env.py: the
# one line comes from the app package, which alembic.ini's script_location
# names (a file without upgrade() only fails where it would run).
READING_COMMANDS = [("history",), ("heads",), ("show", "head"), ("branches",)]
IMPORT_FAILURES = sorted(case for case in BROKEN_FILES if case != "update for upgrade")


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("case", IMPORT_FAILURES)
@pytest.mark.parametrize("args", READING_COMMANDS, ids=" ".join)
def test_a_revision_file_that_cannot_be_imported_ends_alembic_history_in_one_line(
        project, case, args):
    imports, definition, expected = BROKEN_FILES[case]
    (project.root / BROKEN_FILE).write_text(BROKEN_TEXT.format(
        imports=imports, definition=definition, revision=BROKEN, head=HEAD))

    result = project.alembic(*args)

    assert result.returncode == 1, result.stdout + result.stderr
    assert re.fullmatch(expected, the_line(result)), the_line(result)


# --- a revision that fails while it runs ----------------------------------------------

@pytest.mark.backends("sqlite", "postgresql")
@pytest.mark.parametrize("door", ["manage.py", "flask", "alembic"])
def test_a_failing_revision_names_its_exception_and_line(project, door):
    assert_ok(project.manage("db", "upgrade"))
    project.add_revision(FAILING, HEAD, 'op.create_table("partial", sa.Column("id", '
                         'sa.Integer, primary_key=True))\n{}["about"]')

    result = through(project, door, *upgrade_command(door))

    assert result.returncode == COMMAND_ERROR_EXIT[door]
    line = the_line(result)
    assert ("revision {0} (test revision {0}) failed and its upgrade was rolled back, the "
            "database is as before it (KeyError: 'about' in migrations/versions/"
            "{0}_test.py, line 16): fix the revision and run the command again".format(FAILING)
            in line)
    assert project.version() == [HEAD]
    assert "partial" not in project.tables()


@pytest.mark.backends("sqlite", "postgresql")
def test_a_database_error_in_a_revision_names_its_line_too(project):
    assert_ok(project.manage("db", "upgrade"))
    project.add_revision(FAILING, HEAD, 'op.execute("SELECT no_such_column FROM no_such_table")')

    result = project.manage("db", "upgrade")

    assert result.returncode == 1
    line = the_line(result)
    assert "failed and its upgrade was rolled back" in line
    assert "no_such_table" in line
    assert "in migrations/versions/{}_test.py, line 15)".format(FAILING) in line
    assert project.version() == [HEAD]


# --- each door's own words ----------------------------------------------------------

@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("door, createdb", [
    ("manage.py", "python manage.py db createdb"),
    ("flask", "flask db-createdb"),
    # alembic has no createdb: the project's manage.py has.
    ("alembic", "python manage.py db createdb")])
def test_a_missing_database_is_created_with_the_doors_command(project, request, door,
                                                             createdb):
    missing = request.getfixturevalue("missing_database_url")
    url = make_url(missing)
    refused = through(project, door, *upgrade_command(door), env={"DATABASE_URL": missing})
    assert refused.returncode == 1
    assert the_line(refused) == (
        'error: database "{}" on {}:{} as user "{}" does not exist: create it with '
        '"{}"'.format(url.database, url.host, url.port, url.username, createdb))


@pytest.mark.backends("sqlite")
def test_flask_db_check_behind_head_says_flask_db_upgrade(project):
    assert_ok(project.flask("db", "upgrade", FIRST))
    result = project.flask("db-check")
    assert result.returncode == 1
    assert the_line(result) == 'error: the database is not at head: run "flask db upgrade" first'


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door, accept", [
    ("manage.py", "python manage.py db validate --accept"),
    ("flask", "flask db-validate --accept"),
    # alembic has no validate: the project's manage.py has.
    ("alembic", "python manage.py db validate --accept")])
def test_a_changed_applied_revision_is_accepted_with_the_doors_command(project, door, accept):
    assert_ok(project.manage("db", "upgrade"))
    [path] = (project.root / "migrations" / "versions").glob("*{}*.py".format(FIRST))
    path.write_text(path.read_text().replace("length=128", "length=200"))

    refused = through(project, door, *upgrade_command(door))

    assert refused.returncode == COMMAND_ERROR_EXIT[door]
    assert '"{} {}"'.format(accept, FIRST) in the_line(refused)


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door, args, migrate", [
    ("manage.py", ("db", "migrate", "-m", "x"), "python manage.py db migrate -m <message>"),
    ("flask", ("db", "migrate", "-m", "x"), "flask db migrate -m <message>"),
    ("alembic", ("revision", "--autogenerate", "-m", "x"),
     "alembic revision --autogenerate -m <message>")])
def test_a_question_nobody_answers_names_the_doors_migrate(project, door, args, migrate):
    assert_ok(project.manage("db", "upgrade"))
    project.add_to_model("    code = db.Column(db.String(8), nullable=False)")
    before = project.revision_files()

    refused = through(project, door, *args)

    assert refused.returncode == COMMAND_ERROR_EXIT[door]
    line = the_line(refused)
    assert "users.code is NOT NULL without a server_default" in line
    assert 'or run "{}" on a terminal'.format(migrate) in line
    assert project.revision_files() == before


@pytest.mark.parametrize("program, expected", [
    ("manage.py", {"upgrade": "python manage.py db upgrade",
                   "post-deploy": "python manage.py db upgrade -x phase=post-deploy",
                   "stamp": "python manage.py db stamp abc",
                   "validate": "python manage.py db validate --accept abc",
                   "migrate": "python manage.py db migrate -m <message>"}),
    ("run.py", {"upgrade": "python run.py db upgrade"}),
    ("/venv/bin/alembic", {"upgrade": "alembic upgrade head",
                           "post-deploy": "alembic -x phase=post-deploy upgrade head",
                           "stamp": "alembic stamp abc",
                           "validate": "python manage.py db validate --accept abc",
                           "migrate": "alembic revision --autogenerate -m <message>",
                           "check": "alembic check"})])
def test_each_door_renders_its_commands(monkeypatch, program, expected):
    monkeypatch.setattr(sys, "argv", [program])
    rendered = {"upgrade": doors.command("upgrade"),
                "post-deploy": doors.command("upgrade", x="phase=post-deploy"),
                "stamp": doors.command("stamp", "abc"),
                "validate": doors.command("validate", "--accept", "abc"),
                "migrate": doors.command("migrate", "-m <message>"),
                "check": doors.command("check")}
    assert {name: rendered[name] for name in expected} == expected


def test_the_flask_door_renders_its_commands(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/flask"])
    with click.Context(FlaskGroup()):
        assert doors.command("upgrade") == "flask db upgrade"
        assert doors.command("upgrade", x="phase=post-deploy") == \
            "flask db upgrade -x phase=post-deploy"
        assert doors.command("createdb") == "flask db-createdb"
        assert doors.command("validate", "--accept", "abc") == "flask db-validate --accept abc"


# --- db init's next step ------------------------------------------------------------

@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door, migrate", [
    ("manage.py", "python manage.py db migrate -m 'initial'"),
    ("flask", "flask db migrate -m 'initial'")])
def test_db_init_ends_with_the_next_step_of_its_door(project, door, migrate):
    result = assert_ok(through(project, door, "db", "init", "-d", "fresh"))
    assert "Please edit" not in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "Next: the migrations run on the SQLite database {} (the app's "
        "SQLALCHEMY_DATABASE_URI, not alembic.ini); if that is not the database to "
        "migrate, change the app's configuration, then run \"{}\"".format(
            make_url(project.database_url).database, migrate))
    assert (project.root / "fresh" / "env.py").exists()
