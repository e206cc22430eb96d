"""docs/ADOPTING.md followed for real: two legacy Flask-Script apps
(tests/legacy_apps/) are copied into a temporary folder, take only the
app/migrating/ package and the guide's lines, and run the db workflow: the
Flask-Migrate tutorial's one-file app from `db init`, and a package-style app
with a committed history and an old env.py."""
import ast
import shutil
import subprocess
import sys
import time

from tests.legacy_apps.adopt import ENV_PY, GUIDE_LINES, PACKAGE, adopt, copy_app, swap_env_py
from tests.support import PROJECT_ROOT, Project, assert_ok, error_lines, revision_id

GUIDE = PROJECT_ROOT / "docs" / "ADOPTING.md"
BLOG_HEAD = "7d2c4b8e1f60"
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


def test_the_guide_shows_the_lines_this_test_writes():
    guide = GUIDE.read_text()
    for lines in GUIDE_LINES:
        assert lines.format(package="yourapp.migrating").strip() in guide


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
