"""The two phases of a release: db migrate writes what removes something the
old release still uses on the post_deploy branch, `db upgrade -x
phase=pre-deploy` runs the rest before the deploy, `-x phase=post-deploy`
after it, and plain `db upgrade` everything; through manage.py, flask and
raw alembic."""
import json
import pathlib
import re

import pytest
from sqlalchemy import text

from tests.support import assert_ok, committed_revisions, error_lines

# The head of the committed history, which the changes below follow.
HEAD = committed_revisions()[-1][0]
UPDATED_AT = "    updated_at = db.Column("
NICKNAME = "    nickname = db.Column(db.String(64))"


def upgrade(project, door, phase=None):
    """db upgrade [-x phase=<phase>] through `door`."""
    x = ["-x", "phase=" + phase] if phase else []
    if door == "manage.py":
        return project.manage("db", "upgrade", *x)
    if door == "flask":
        return project.flask("db", "upgrade", *x)
    return project.alembic(*x, "upgrade", "head")


def downgrade(project, door):
    """db downgrade -1 through `door`."""
    if door == "manage.py":
        return project.manage("db", "downgrade")
    if door == "flask":
        return project.flask("db", "downgrade")
    return project.alembic("downgrade", "-1")


def execute(project, sql):
    with project.engine() as engine, engine.begin() as connection:
        result = connection.execute(text(sql))
        return [tuple(row) for row in result] if result.returns_rows else None


@pytest.fixture
def users(project):
    """The project at head with one user, and a model change that adds
    users.nickname and drops users.updated_at, written by db migrate."""
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO users (name, email) VALUES ('Ann', 'ann@example.com')")
    project.edit_models(UPDATED_AT, "    updated_at_gone = None and db.Column(")
    project.add_to_model(NICKNAME)
    return project


def written(project, result):
    """{revision id: text} of the revisions db migrate says it wrote, in order."""
    paths = re.findall(r"Generating (\S+\.py)", result.stdout)
    return {re.search(r"([0-9a-f]{12})_\w*\.py$", path).group(1):
            pathlib.Path(path).read_text() for path in paths}


def test_db_migrate_writes_the_drop_after_the_deploy(users):
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    assert "Writing the change in two phases" in result.stderr
    (before_id, before), (after_id, after) = written(users, result).items()
    assert "add_column" in before and "drop_column('updated_at')" not in before
    assert "down_revision = '{}'".format(HEAD) in before
    assert "drop_column('updated_at')" in after and "add_column" in after  # its downgrade
    assert "branch_labels = ('post_deploy',)" in after
    assert "down_revision = None" in after and "depends_on = '{}'".format(before_id) in after
    heads = assert_ok(users.manage("db", "heads")).stdout
    assert "{} (post_deploy) (head)".format(after_id) in heads

    # The next change that drops something follows the branch's head.
    assert_ok(users.manage("db", "upgrade"))
    users.edit_models(NICKNAME, "")
    result = assert_ok(users.manage("db", "migrate", "-m", "no nickname"))
    [(next_id, following)] = written(users, result).items()
    assert "down_revision = '{}'".format(after_id) in following
    assert "branch_labels = None" in following
    assert "depends_on = '{}'".format(before_id) in following  # the main line's head
    assert_ok(users.manage("db", "upgrade"))
    assert "nickname" not in users.columns("users")


@pytest.mark.parametrize("door", ["manage.py", "flask", "alembic"])
def test_each_phase_runs_its_own_part(users, door):
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))

    assert_ok(upgrade(users, door, "pre-deploy"))
    columns = users.columns("users")
    assert "nickname" in columns and "updated_at" in columns
    # The old release still writes updated_at; the new one writes nickname.
    execute(users, "INSERT INTO users (name, email, updated_at) VALUES "
                   "('Bob', 'bob@example.com', CURRENT_TIMESTAMP)")
    execute(users, "INSERT INTO users (name, email, nickname) VALUES "
                   "('Cy', 'cy@example.com', 'cy')")
    check = users.manage("db", "check")
    assert check.returncode == 1 and error_lines(check.stderr) == [
        'error: the database is not at head: run "python manage.py db upgrade -x '
        'phase=post-deploy" first']
    current = assert_ok(users.manage("db", "current"))
    [note] = error_lines(current.stderr)
    assert '1 post-deploy migration(s) not applied: after the deploy, run "python manage.py ' \
           'db upgrade -x phase=post-deploy"' in note

    assert_ok(upgrade(users, door, "post-deploy"))
    assert "updated_at" not in users.columns("users")
    assert "No changes" in assert_ok(users.manage("db", "check")).stdout
    assert not error_lines(assert_ok(users.manage("db", "current")).stderr)
    log = json.loads(assert_ok(users.manage("db", "log", "--json")).stdout)
    assert [entry["after_deploy"] for entry in log[:2]] == [True, False]
    assert "[post-deploy] after the deploy: nickname" in users.manage("db", "log").stdout
    assert execute(users, "SELECT name, nickname FROM users ORDER BY id") == [
        ("Ann", None), ("Bob", None), ("Cy", "cy")]

    # Back: the post-deploy revision first, then the main line's.
    assert_ok(downgrade(users, door))
    assert "updated_at" in users.columns("users") and "nickname" in users.columns("users")
    assert_ok(downgrade(users, door))
    assert "nickname" not in users.columns("users")
    assert users.version() == [HEAD]


def test_db_upgrade_runs_both_phases(users):
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    result = assert_ok(users.manage("db", "upgrade"))
    assert "after the deploy: nickname" in result.stderr
    columns = users.columns("users")
    assert "nickname" in columns and "updated_at" not in columns
    assert "No changes" in assert_ok(users.manage("db", "check")).stdout


@pytest.mark.backends("sqlite")
def test_the_post_deploy_phase_alone_runs_the_pre_deploy_part_too(users):
    """A deploy that skipped the first phase loses nothing: after the deploy
    means everything."""
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    assert_ok(users.manage("db", "upgrade", "-x", "phase=post-deploy"))
    columns = users.columns("users")
    assert "nickname" in columns and "updated_at" not in columns


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("door", ["manage.py", "alembic"])
@pytest.mark.parametrize("args, message", [
    (("-x", "phase=later"), 'phase must be "pre-deploy" or "post-deploy", not "later"'),
    (("8f3a6c2d5e71", "-x", "phase=pre-deploy"),
     "-x phase=pre-deploy upgrades to the phase's own heads; it takes no revision "
     "(not 8f3a6c2d5e71)"),
])
def test_a_wrong_phase_is_one_line(users, door, args, message):
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    before = users.version(), users.columns("users")
    if door == "manage.py":
        result = users.manage("db", "upgrade", *args)
    else:
        revision = [a for a in args[:1] if not a.startswith("-")] or ["head"]
        result = users.alembic(*[a for a in args if a not in revision], "upgrade", *revision)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    [line] = error_lines(result.stderr)
    assert line.endswith("Error: " + message) or line.endswith(" " + message), line
    assert (users.version(), users.columns("users")) == before


@pytest.mark.backends("sqlite")
def test_migrate_phases_off_writes_one_revision(users):
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname",
                                    env={"MIGRATE_PHASES": "0"}))
    [(_, revision)] = written(users, result).items()
    assert "add_column" in revision and "drop_column('updated_at')" in revision
    assert "post_deploy" not in revision


@pytest.mark.backends("sqlite")
def test_healthz_is_ok_while_only_post_deploy_revisions_wait(users):
    """The new release serves between the phases: /healthz says ok, and
    which revisions wait for the deploy to end."""
    result = assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    after_id = list(written(users, result))[1]
    assert_ok(users.manage("db", "upgrade", "-x", "phase=pre-deploy"))
    with users.runserver() as server:
        status, body = server.wait()
    assert status == 200
    answer = json.loads(body)
    assert answer["status"] == "ok" and answer["pending_after_deploy"] == [after_id]
    assert "post-deploy migration(s) not applied" in server.stderr


# --- expand and contract, written by db migrate on PostgreSQL -------------------

ID_COLUMN = "    id = db.Column(db.Integer, primary_key=True)"
NAME_COLUMN = "    name = db.Column(db.String(128), nullable=False)"
ROLES = 'ROLES = ("super_user", "admin", "user")'


@pytest.mark.backends("postgresql")
def test_a_type_change_and_an_enum_value_removed_run_in_halves(project):
    """INTEGER to BIGINT on the primary key and an enum value removed: expand
    before the deploy, while both releases write; contract after it; back
    down again, every row kept."""
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO users (name, email) SELECT 'n' || i, 'e' || i || '@x' "
                     "FROM generate_series(1, 500) AS i")
    project.edit_models(ID_COLUMN, "    id = db.Column(db.BigInteger, primary_key=True)")
    project.edit_models(ROLES, 'ROLES = ("super_user", "user")')
    result = assert_ok(project.manage("db", "migrate", "-m", "bigint ids"))
    notes = [line for line in error_lines(result.stderr) if line.startswith("note:")]
    assert len(notes) == 2 and "users.id from INTEGER to BIGINT: written as " \
        "op.expand_column before the deploy and op.contract_column after it" in notes[0]
    (_, before), (_, after) = written(project, result).items()
    assert "op.expand_column('users', 'id', type_=sa.BigInteger(), " \
           "existing_type=sa.INTEGER())" in before
    assert "op.contract_column('users', 'id'" in after and "undo=True" in after
    assert "ALTER" not in before + after and "sync_enum_values" not in before + after
    assert_ok(project.manage("db", "lint"))

    assert_ok(project.manage("db", "upgrade", "-x", "phase=pre-deploy"))
    # The old release inserts and updates; the new one too.
    execute(project, "INSERT INTO users (name, email, role) VALUES ('old', 'old@x', "
                     "'super_user')")
    execute(project, "UPDATE users SET name = 'old release' WHERE email = 'e1@x'")
    assert execute(project, "SELECT count(*) FROM users WHERE id_new IS DISTINCT FROM id "
                            "OR role_new::text IS DISTINCT FROM role::text") == [(0,)]
    # From the expand on, the value removed is refused (its writers must be
    # gone before the revision runs): no row can hold it at the swap.
    with pytest.raises(Exception, match="user_role_new"):
        execute(project, "INSERT INTO users (name, email, role) VALUES ('a', 'a@x', 'admin')")

    assert_ok(project.manage("db", "upgrade", "-x", "phase=post-deploy"))
    assert execute(project, "SELECT data_type FROM information_schema.columns WHERE "
                            "table_name = 'users' AND column_name = 'id'") == [("bigint",)]
    assert "No changes" in assert_ok(project.manage("db", "check")).stdout
    execute(project, "INSERT INTO users (name, email) VALUES ('new', 'new@x')")  # the sequence
    assert execute(project, "SELECT count(*), count(DISTINCT id) FROM users") == [(502, 502)]
    assert "old release" in [row[0] for row in execute(project, "SELECT name FROM users")]

    assert_ok(project.manage("db", "downgrade"))
    assert_ok(project.manage("db", "downgrade"))
    assert execute(project, "SELECT data_type FROM information_schema.columns WHERE "
                            "table_name = 'users' AND column_name = 'id'") == [("integer",)]
    assert execute(project, "SELECT count(*) FROM users") == [(502,)]
    execute(project, "INSERT INTO users (name, email, role) VALUES ('back', 'back@x', 'admin')")


@pytest.mark.backends("postgresql")
def test_a_rename_confirmed_at_a_terminal_runs_in_halves(project):
    """The old release writes `name`, the new one `full_name`, between the
    phases; after the deploy only `full_name` is left, with every value."""
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO users (name, email) VALUES ('Ann', 'ann@x')")
    project.edit_models(NAME_COLUMN, '    name = db.Column("full_name", db.String(128), '
                                     'nullable=False)')
    code, screen = project.manage_on_terminal("db", "migrate", "-m", "full name", answers=[
        ("Did you rename users.name to users.full_name (VARCHAR(128))? [y/N]", "y"),
        ("or in one step? [E/o]", "")])
    assert code == 0 and "Traceback" not in screen, screen
    revisions = re.findall(r"Generating (\S+\.py)", screen)
    assert len(revisions) == 2
    texts = [pathlib.Path(path).read_text() for path in revisions]
    assert "op.expand_column('users', 'name', new_name='full_name', " \
           "existing_type=sa.String(length=128))" in texts[0]
    assert "op.contract_column('users', 'name', new_name='full_name', " \
           "existing_type=sa.String(length=128))" in texts[1]
    lint = assert_ok(project.manage("db", "lint"))  # rehearsed offline, with no finding
    assert "db lint: 0 error(s), 0 warning(s) in 2 revision(s)" in lint.stdout

    assert_ok(project.manage("db", "upgrade", "-x", "phase=pre-deploy"))
    execute(project, "INSERT INTO users (name, email) VALUES ('Bob', 'bob@x')")  # old release
    execute(project, "INSERT INTO users (full_name, email) VALUES ('Cy', 'cy@x')")  # new
    execute(project, "UPDATE users SET name = 'Ann B' WHERE email = 'ann@x'")
    assert execute(project, "SELECT name, full_name FROM users ORDER BY id") == [
        ("Ann B", "Ann B"), ("Bob", "Bob"), ("Cy", "Cy")]

    assert_ok(project.manage("db", "upgrade", "-x", "phase=post-deploy"))
    assert "name" not in project.columns("users")
    assert execute(project, "SELECT full_name FROM users ORDER BY id") == [
        ("Ann B",), ("Bob",), ("Cy",)]
    assert "No changes" in assert_ok(project.manage("db", "check")).stdout
    assert_ok(project.manage("db", "downgrade"))
    assert_ok(project.manage("db", "downgrade"))
    assert execute(project, "SELECT name FROM users ORDER BY id") == [
        ("Ann B",), ("Bob",), ("Cy",)]
    assert "full_name" not in project.columns("users")


@pytest.mark.backends("sqlite")
def test_migrate_phase_in_the_environment_picks_the_phase(users):
    """For deploy scripts that set the environment rather than the command."""
    assert_ok(users.manage("db", "migrate", "-m", "nickname"))
    assert_ok(users.manage("db", "upgrade", env={"MIGRATE_PHASE": "pre-deploy"}))
    assert "updated_at" in users.columns("users")
    assert_ok(users.alembic("upgrade", "head", env={"MIGRATE_PHASE": "post-deploy"}))
    assert "updated_at" not in users.columns("users")


def test_a_not_null_column_dropped_after_the_deploy_is_nullable_before_it(project):
    """The new release, whose model has no users.name (NOT NULL, no
    default), inserts rows between the phases."""
    assert_ok(project.manage("db", "upgrade"))
    execute(project, "INSERT INTO users (name, email) VALUES ('Ann', 'ann@x')")
    project.edit_models(NAME_COLUMN, "    name = None")
    result = assert_ok(project.manage("db", "migrate", "-m", "no names"))
    (_, before), (_, after) = written(project, result).items()
    assert "nullable=True" in before and "drop_column('name')" in after

    assert_ok(project.manage("db", "upgrade", "-x", "phase=pre-deploy"))
    execute(project, "INSERT INTO users (email) VALUES ('bob@x')")  # the new release
    execute(project, "INSERT INTO users (name, email) VALUES ('Cy', 'cy@x')")  # the old one
    assert_ok(project.manage("db", "upgrade", "-x", "phase=post-deploy"))
    assert "name" not in project.columns("users")
    assert "No changes" in assert_ok(project.manage("db", "check")).stdout
    assert_ok(project.manage("db", "downgrade"))  # name back, nullable: its values are gone
    assert_ok(project.manage("db", "downgrade"))
    assert execute(project, "SELECT email FROM users ORDER BY id") == [
        ("ann@x",), ("bob@x",), ("cy@x",)]
