"""docs/ADOPTING.md followed for real: two legacy Flask-Script apps
(tests/legacy_apps/) are copied into a temporary folder, take only the
app/migrating/ package and the guide's lines, and run the db workflow: the
Flask-Migrate tutorial's one-file app from `db init`, and a package-style app
with a committed history and an old env.py, whose create_app takes its
configuration's name and whose Migrate is bound in manage.py only (as in the
Flask book's first edition), through all three doors, with its nested
requirements files."""
import ast
import shutil
import subprocess
import sys
import time
from importlib import metadata

import pytest

from tests.legacy_apps.adopt import (
    ALEMBIC_INI,
    ENV_PY,
    GUIDE_LINES,
    PACKAGE,
    adopt,
    copy_app,
    swap_env_py,
    take_pins,
)
from tests.support import PROJECT_ROOT, Project, assert_ok, error_lines, revision_id

GUIDE = PROJECT_ROOT / "docs" / "ADOPTING.md"
BLOG_HEAD = "7d2c4b8e1f60"
# The package's requirements file for the stack these tests run on.
PINS = "requirements.txt" if metadata.version("flask").startswith("1.") else \
    "requirements-modern.txt"
# `flask` finds an app whose Migrate manage.py binds through manage.py.
FLASK_THROUGH_MANAGE_PY = {"FLASK_APP": "manage.py"}
NOT_BOUND = ("the app found ({}) has no Migrate bound: bind Migrate(app, db) in create_app, "
             "or point flask_app in alembic.ini (FLASK_APP for flask) at the module that "
             "binds it, e.g. manage:app")
# A revision that sleeps SLOW_REVISION seconds, holding the migration lock.
SLOW_REVISION = '''"""slow"""
import os
import time

revision = "5105105105aa"
down_revision = {down!r}


def upgrade():
    time.sleep(float(os.environ.get("SLOW_REVISION") or 0))


def downgrade():
    pass
'''
# A revision that creates a table, then fails.
FAILING_REVISION = '''"""half way"""
import sqlalchemy as sa
from alembic import op

revision = "f0f0f0f0f0f0"
down_revision = {down!r}


def upgrade():
    op.create_table("partial", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("SELECT no_such_column FROM no_such_table")


def downgrade():
    op.drop_table("partial")
'''


def legacy_app(name, tmp_path, database_url):
    copy_app(name, tmp_path / name)
    return Project(tmp_path / name, database_url)


def adopted_blog(tmp_path, database_url, flask_app="manage:app"):
    """The blog app adopted by the guide, env.py swapped, with the project
    root's alembic.ini naming the app as `flask_app`."""
    app = legacy_app("blog", tmp_path, database_url)
    adopt(app.root, "blog.migrating")
    (app.root / "alembic.ini").write_text(ALEMBIC_INI.format(flask_app=flask_app))
    return app


def test_the_guide_shows_the_lines_this_test_writes():
    guide = GUIDE.read_text()
    for lines in GUIDE_LINES:
        assert lines.format(package="yourapp.migrating").strip() in guide
    for flask_app in ("yourapp:create_app()", "manage:app"):
        assert ALEMBIC_INI.format(flask_app=flask_app).strip() in guide
    assert "-r ../yourapp/migrating/requirements.txt" in guide
    assert "FLASK_APP=manage.py" in guide


def test_the_tutorial_app_from_db_init_to_downgrade_base_and_back(tmp_path, database_url,
                                                                     backend):
    app = legacy_app("tutorial", tmp_path, database_url)
    adopt(app.root, "migrating", swap_env=False)

    assert_ok(app.manage("db", "init"))
    assert (app.root / "migrations" / "env.py").read_text().endswith(
        ENV_PY.format(package="migrating"))
    assert_ok(app.manage("db", "migrate", "-m", "users table"))
    [script] = (app.root / "migrations" / "versions").glob("*.py")
    assert "op.create_table('user'" in script.read_text()
    first = revision_id(script)
    assert_ok(app.manage("db", "upgrade"))
    assert app.version() == [first]
    assert "user" in app.tables()
    assert "the models match" in assert_ok(app.manage("db", "check")).stdout
    assert "No changes in schema detected" in assert_ok(
        app.manage("db", "migrate", "-m", "nothing")).stderr
    assert app.revision_files() == [script.name]

    assert_ok(app.manage("db", "downgrade", "base"))
    assert "user" not in app.tables()
    assert_ok(app.manage("db", "upgrade"))
    assert app.version() == [first]
    assert_lock_and_failure_handled(app, first, backend)


def test_the_package_app_keeps_its_history_and_its_own_commands(tmp_path, database_url,
                                                                  backend):
    app = legacy_app("blog", tmp_path, database_url)
    adopt(app.root, "blog.migrating", swap_env=False)
    # Its old env.py still runs the history, and writes an empty revision
    # when nothing changed.
    assert_ok(app.manage("db", "upgrade"))
    assert app.version() == [BLOG_HEAD]
    before = app.revision_files()
    assert_ok(app.manage("db", "migrate", "-m", "nothing"))
    [empty] = set(app.revision_files()) - set(before)
    (app.root / "migrations" / "versions" / empty).unlink()

    swap_env_py(app.root, "blog.migrating")
    assert assert_ok(app.manage("db", "current")).stdout.strip() == BLOG_HEAD + " (head)"
    # Migrated before it had a log: its first validate records a baseline.
    assert "migration_log" not in app.tables()
    assert "applied revision(s) match their files" in assert_ok(
        app.manage("db", "validate")).stdout
    assert {row["direction"] for row in app.log()} == {"baseline"}
    assert "No changes in schema detected" in assert_ok(
        app.manage("db", "migrate", "-m", "nothing")).stderr
    assert app.revision_files() == before
    assert "the models match" in assert_ok(app.manage("db", "check")).stdout

    # Its own commands, built by @manager.command and @manager.option.
    assert assert_ok(app.manage("hello")).stdout == "hello, world\n"
    assert assert_ok(app.manage("hello", "--name", "Ann")).stdout == "hello, Ann\n"
    assert assert_ok(app.manage("add_role", "-r", "Admin")).stdout == "added role Admin\n"

    models = app.root / "blog" / "models.py"
    models.write_text(models.read_text() + "    location = db.Column(db.String(64))\n")
    assert "add_column users.location" in app.manage("db", "check").stdout
    created = assert_ok(app.manage("db", "migrate", "-m", "location"))
    assert "Detected added column 'users.location'" in created.stderr
    [script] = set(app.revision_files()) - set(before)
    second = revision_id(app.root / "migrations" / "versions" / script)
    assert_ok(app.manage("db", "upgrade"))
    assert "location" in app.columns("users")
    assert "the models match" in assert_ok(app.manage("db", "check")).stdout
    assert_ok(app.manage("db", "downgrade", "base"))
    assert app.tables() <= {"alembic_version", "migration_log"}
    assert_ok(app.manage("db", "upgrade"))
    assert app.version() == [second]
    assert assert_ok(app.manage("db", "log")).stdout.splitlines()[1].split()[:3] == [
        second, "upgrade", "ok"]
    assert_lock_and_failure_handled(app, second, backend)


def assert_lock_and_failure_handled(app, head, backend):
    """A second upgrade gives up on the lock a running one holds; a failing
    revision is reported in one line, rolled back or, on MySQL, marked."""
    versions = app.root / "migrations" / "versions"
    (versions / "5105105105aa_slow.py").write_text(SLOW_REVISION.format(down=head))
    first = app.start("db", "upgrade", env={"SLOW_REVISION": "30"})
    try:
        deadline = time.monotonic() + 30
        output = ""
        while "Running upgrade {} -> 5105105105aa".format(head) not in output:
            assert time.monotonic() < deadline, output
            output += first.stderr.readline()
        second = app.manage("db", "upgrade", "-x", "lock_timeout=1")
    finally:
        first.kill()
        first.communicate()
    assert second.returncode == 1
    assert "gave up after 1s waiting for the migration lock" in error_lines(second.stderr)[-1]
    assert_ok(app.manage("db", "upgrade"))
    assert app.version() == ["5105105105aa"]

    (versions / "f0f0f0f0f0f0_half_way.py").write_text(
        FAILING_REVISION.format(down="5105105105aa"))
    failed = app.manage("db", "upgrade")
    assert failed.returncode == 1
    [line] = error_lines(failed.stderr)
    assert "revision f0f0f0f0f0f0 (half way) failed" in line
    assert app.version() == ["5105105105aa"]
    if backend == "mysql":
        assert app.unfinished() == [("f0f0f0f0f0f0", "upgrade")]
        refused = app.manage("db", "upgrade")
        assert refused.returncode == 1
        assert "did not finish" in refused.stderr
        assert_ok(app.manage("db", "stamp", "f0f0f0f0f0f0"))
        assert app.unfinished() == []
    else:
        assert "partial" not in app.tables()
        assert app.unfinished() == []


def test_the_package_imports_nothing_of_the_web_app():
    for path in PACKAGE.glob("**/*.py"):
        # Every file parses, the templates too (compileall and linters read them).
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                # A module in a subpackage may climb to the package, no further.
                depth = len(path.relative_to(PACKAGE).parts)
                assert node.level <= depth, "{} reaches out of the package".format(path)
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert name != "app" and not name.startswith("app."), (path, name)


def test_the_package_works_as_a_top_level_package_without_the_web_app(tmp_path):
    """Copied out alone and imported as `migrating`, with the web app's
    modules unimportable, the package loads and binds to a bare app."""
    shutil.copytree(PACKAGE, tmp_path / "migrating", ignore=shutil.ignore_patterns("__pycache__"))
    script = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'app' or name.startswith('app.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import migrating, migrating.env, migrating.multidb\n"
        "from flask import Flask\n"
        "from flask_sqlalchemy import SQLAlchemy\n"
        "app = Flask('bare')\n"
        "app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite://'\n"
        "app.config['SQLALCHEMY_TRACK_MODIFICATIONS'] = False\n"
        "db = SQLAlchemy(app)\n"
        "migrating.Migrate(app, db)\n"
        "print(sorted(m for m in sys.modules if m == 'app' or m.startswith('app.')))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"


def test_an_app_that_binds_migrate_in_manage_py_migrates_through_the_three_doors(
        tmp_path, database_url):
    """manage.py binds Migrate to create_app(<config name>)'s app: the raw
    alembic command reaches it through flask_app = manage:app, `flask`
    through FLASK_APP=manage.py, and each door logs its steps."""
    app = adopted_blog(tmp_path, database_url)
    assert_ok(app.manage("db", "upgrade"))
    assert app.version() == [BLOG_HEAD]
    assert_ok(app.alembic("downgrade", "base"))
    assert app.version() == []
    assert_ok(app.alembic("upgrade", "head"))
    assert app.version() == [BLOG_HEAD]
    assert_ok(app.flask("db", "downgrade", "base", env=FLASK_THROUGH_MANAGE_PY))
    assert app.version() == []
    assert_ok(app.flask("db", "upgrade", env=FLASK_THROUGH_MANAGE_PY))
    assert app.version() == [BLOG_HEAD]

    current = BLOG_HEAD + " (head)"
    assert current in assert_ok(app.manage("db", "current")).stdout
    assert current in assert_ok(app.alembic("current")).stdout
    assert current in assert_ok(app.flask("db", "current", env=FLASK_THROUGH_MANAGE_PY)).stdout
    assert "the models match" in assert_ok(
        app.flask("db-check", env=FLASK_THROUGH_MANAGE_PY)).stdout
    assert [row["direction"] for row in app.log()] == [
        "upgrade", "upgrade", "downgrade", "downgrade", "upgrade", "upgrade",
        "downgrade", "downgrade", "upgrade", "upgrade"]


@pytest.mark.parametrize("flask_app, env, named", [
    ("blog:create_app()", None, "blog:create_app()"),
    ("blog:create_app('default')", None, "blog:create_app('default')"),
    ("", {"FLASK_APP": "blog"}, "blog"),
])
def test_an_app_found_without_migrate_bound_is_named_in_one_line(tmp_path, flask_app, env,
                                                                  named):
    """The guide's former flask_app = yourapp:create_app(), written for an
    app whose Migrate manage.py binds: one line naming the app found (as
    alembic.ini or FLASK_APP names it) and what to set, not a KeyError."""
    database = tmp_path / "blog.db"
    app = adopted_blog(tmp_path, "sqlite:///" + str(database), flask_app)
    for result in (app.alembic("upgrade", "head", env=env), app.alembic("current", env=env)):
        assert result.returncode == 1
        assert "Traceback" not in result.stderr and "KeyError" not in result.stderr
        assert error_lines(result.stderr) == ["error: " + NOT_BOUND.format(named)]
    assert not database.exists() or app.version() is None


def test_a_factory_named_with_an_expression_says_how_to_write_it(tmp_path):
    """flask_app takes a factory's arguments as literals, as FLASK_APP does:
    an expression (the os.getenv of manage.py) is refused in one line that
    says how to write it."""
    app = adopted_blog(tmp_path, "sqlite:///" + str(tmp_path / "blog.db"),
                       "blog:create_app(os.getenv('BLOG_CONFIG') or 'default')")
    result = app.alembic("current")
    assert result.returncode == 1
    [line] = error_lines(result.stderr)
    assert line.startswith("error: cannot load the app (")
    assert "create_app(os.getenv('BLOG_CONFIG') or 'default')" in line
    assert line.endswith("module:create_app('default') with literal arguments, e.g. manage:app")


def test_a_postgres_url_of_the_adopting_app_is_one_line_through_every_door(tmp_path):
    """Heroku's older postgres:// URLs, which SQLAlchemy 1.4 refuses, in the
    adopting app's own config: one line from the package, whichever door,
    whether Flask-SQLAlchemy makes the engine in create_app (3.x) or when
    Migrate prepares it (2.5)."""
    app = adopted_blog(tmp_path, "postgres://app@localhost/app")
    for result in (app.manage("db", "upgrade"), app.alembic("upgrade", "head"),
                   app.flask("db", "upgrade", env=FLASK_THROUGH_MANAGE_PY)):
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert error_lines(result.stderr) == [
            "error: the app's database URL names postgres://, which SQLAlchemy no longer "
            "accepts: write postgresql:// instead"]


def test_a_nested_requirements_file_installs_the_stack_the_app_runs_on(tmp_path):
    """Step 2 in requirements/common.txt, which requirements/dev.txt includes:
    the -r line is relative to common.txt; `pip install -r requirements/dev.txt`
    installs the stack and the app's own pins, and the app migrates with
    nothing else on its path."""
    app = adopted_blog(tmp_path, "sqlite:///" + str(tmp_path / "blog.db"))
    common = app.root / "requirements" / "common.txt"
    take_pins(common, app.root / "blog" / "migrating" / PINS)
    assert common.read_text().splitlines() == [
        "-r ../blog/migrating/" + PINS, "Flask-Login==0.6.3"]

    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(site), "-r", "requirements/dev.txt"],
        cwd=str(app.root), capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    # -S: without this environment's site-packages, only what pip installed.
    alone = {"PYTHONPATH": str(site)}
    for args in (["-c", "import flask_login, manage"], ["manage.py", "db", "upgrade"],
                 ["manage.py", "db", "check"]):
        assert_ok(subprocess.run([sys.executable, "-S"] + args, cwd=str(app.root),
                                 env=app.environment(alone), capture_output=True, text=True,
                                 timeout=120))
    assert app.version() == [BLOG_HEAD]
