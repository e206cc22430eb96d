"""What every command pays for the history, and that paying less changes
nothing: the history is loaded once per command (revision_modules.py),
and an applied revision's checksum comes from its folder's cache while its
bytes stay the same (log/checksum.py), through every door."""
import json
import shutil

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.migrating import revision_modules
from app.migrating.log.checksum import CACHE_NAME, checksum_of_source
from tests.support import assert_ok, committed_revisions, error_lines

REVISIONS = [revision for revision, _ in committed_revisions()]
HEAD = REVISIONS[-1]
FIRST = REVISIONS[0]
COUNTED = "c0c0c0c0c0c0"
# A revision that notes each import of its file in IMPORTS_FILE.
COUNTING_REVISION = '''"""counts its imports"""
import os

from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None

if os.environ.get("IMPORTS_FILE"):
    with open(os.environ["IMPORTS_FILE"], "a") as imports:
        imports.write("imported\\n")


def upgrade():
    pass


def downgrade():
    pass
'''


def cache_file(project):
    return project.root / "migrations" / "versions" / "__pycache__" / CACHE_NAME


def revision_path(project, revision):
    [path] = (project.root / "migrations" / "versions").glob("*{}*.py".format(revision))
    return path


@pytest.fixture
def counting(project, tmp_path):
    """The project with a counting revision at its head; returns a function
    that runs a command (a Project method and its arguments) and gives how
    many times the file was imported."""
    path = project.root / "migrations" / "versions" / "{}_counted.py".format(COUNTED)
    path.write_text(COUNTING_REVISION.format(revision=COUNTED, down=HEAD))
    imports = tmp_path / "imports.txt"

    def imports_of(run, *args):
        imports.write_text("")
        imports_of.result = assert_ok(run(*args, env={"IMPORTS_FILE": str(imports)}))
        return imports.read_text().count("imported")

    return imports_of


@pytest.mark.parametrize("args", [
    ("db", "upgrade"), ("db", "current"), ("db", "history"), ("db", "heads"),
    ("db", "validate"), ("db", "check"), ("db", "downgrade", "-1"),
])
def test_each_db_command_imports_a_revision_file_once(project, counting, args):
    if args[1] in ("validate", "check", "downgrade"):
        assert_ok(project.manage("db", "upgrade"))
    assert counting(project.manage, *args) == 1


@pytest.mark.parametrize("args", [("db", "upgrade"), ("db", "current"), ("db", "history")])
def test_flask_db_imports_a_revision_file_once(project, counting, args):
    assert counting(project.flask, *args) == 1


@pytest.mark.parametrize("door", ["manage", "flask"])
def test_db_migrate_and_its_lint_import_the_history_once(project, counting, door):
    """The lint of the written revision works in the command's history."""
    assert_ok(project.manage("db", "upgrade"))
    models = project.root / "app" / "models.py"
    column = "    name = db.Column("
    models.write_text(models.read_text().replace(
        column, "    nickname = db.Column(db.String(40))\n" + column, 1))
    run = project.manage if door == "manage" else project.flask
    assert counting(run, "db", "migrate", "-m", "nickname") == 1
    assert "db lint: the new revision has no findings" in counting.result.stdout
    [written] = [path for path in (project.root / "migrations" / "versions").glob("*nickname.py")]
    assert "nickname" in written.read_text()


def small_repository(tmp_path):
    """A repository of one counting revision, and the Config naming it."""
    folder = tmp_path / "migrations"
    (folder / "versions").mkdir(parents=True)
    (folder / "script.py.mako").write_text("")
    path = folder / "versions" / "{}_counted.py".format(COUNTED)
    path.write_text(COUNTING_REVISION.format(revision=COUNTED, down="None")
                    .replace('"None"', "None"))
    config = Config()
    config.set_main_option("script_location", str(folder))
    return config, path


def test_a_module_handed_over_is_taken_once_and_not_after_its_file_changed(tmp_path):
    config, path = small_repository(tmp_path)
    script = ScriptDirectory.from_config(config)
    [loaded] = list(script.walk_revisions())
    revision_modules.hand_over(script)
    taken = revision_modules.load_python_file(str(path.parent), path.name)
    assert taken is loaded.module
    again = revision_modules.load_python_file(str(path.parent), path.name)
    assert again is not loaded.module and again.revision == COUNTED

    revision_modules.hand_over(script)
    path.write_text(path.read_text().replace("pass\n\n\ndef downgrade", "x = 1\n\n\ndef downgrade"))
    changed = revision_modules.load_python_file(str(path.parent), path.name)
    assert changed is not loaded.module
    assert "x = 1" in path.read_text()


def test_a_script_directory_handed_over_is_taken_once_by_the_same_config(tmp_path):
    config, _ = small_repository(tmp_path)
    script = ScriptDirectory.from_config(config)
    revision_modules.hand_over(script, config=config)

    other = Config()
    other.set_main_option("script_location", config.get_main_option("script_location"))
    assert ScriptDirectory.from_config(other) is not script  # another Config
    assert ScriptDirectory.from_config(config) is script
    again = ScriptDirectory.from_config(config)
    assert again is not script
    [loaded] = list(again.walk_revisions())  # imported anew, not handed over
    assert loaded.module is not next(script.walk_revisions()).module


@pytest.mark.parametrize("change", ["edit", "add", "remove"])
def test_a_script_directory_is_not_handed_over_after_its_history_changed(tmp_path, change):
    config, path = small_repository(tmp_path)
    script = ScriptDirectory.from_config(config)
    revision_modules.hand_over(script, config=config)
    if change == "edit":
        path.write_text(path.read_text() + "\nx = 1\n")
    elif change == "add":
        (path.parent / "d0d0d0d0d0d0_next.py").write_text(
            COUNTING_REVISION.format(revision="d0d0d0d0d0d0", down=COUNTED))
    else:
        path.unlink()

    taken = ScriptDirectory.from_config(config)
    assert taken is not script
    assert len(list(taken.walk_revisions())) == {"edit": 1, "add": 2, "remove": 0}[change]
    if change == "edit":
        assert next(taken.walk_revisions()).module.x == 1


def test_the_checksum_cache_holds_what_parsing_gives(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    known = json.loads(cache_file(project).read_text())
    parsed = {checksum_of_source(path.read_bytes())
              for path in (project.root / "migrations" / "versions").glob("*.py")}
    assert set(known.values()) == parsed
    logged = {row["checksum"] for row in project.log() if row["direction"] == "upgrade"}
    assert logged == parsed


def test_an_edit_is_seen_through_the_cache_and_undoing_it_is_clean_again(project, backend):
    assert_ok(project.manage("db", "upgrade"))
    assert_ok(project.manage("db", "validate"))  # every checksum now from the cache
    path = revision_path(project, FIRST)
    original = path.read_bytes()
    path.write_text(path.read_text().replace("length=128", "length=200"))

    for refused in (project.manage("db", "validate"), project.manage("db", "upgrade"),
                    project.flask("db", "upgrade"), project.alembic("upgrade", "head")):
        assert refused.returncode in (1, 255), refused.stderr  # 255: alembic's own
        assert "revision {} (create users table)".format(FIRST) in refused.stderr
        assert "changed after it was applied" in refused.stderr

    path.write_bytes(original)
    clean = assert_ok(project.manage("db", "validate"))
    assert "{} applied revision(s) match their files".format(len(REVISIONS)) in clean.stdout


def test_a_damaged_cache_is_left_aside_and_written_again(project):
    assert_ok(project.manage("db", "upgrade"))
    path = revision_path(project, FIRST)
    path.write_text(path.read_text().replace("length=128", "length=200"))
    cache_file(project).write_text("{not json")
    refused = project.manage("db", "validate")
    assert refused.returncode == 1
    [line] = error_lines(refused.stderr)
    assert "revision {} (create users table)".format(FIRST) in line
    assert checksum_of_source(path.read_bytes()) in json.loads(
        cache_file(project).read_text()).values()


def test_under_pythondontwritebytecode_the_cache_makes_no_pycache(project):
    pycache = cache_file(project).parent
    shutil.rmtree(str(pycache), ignore_errors=True)
    quiet = {"PYTHONDONTWRITEBYTECODE": "1"}
    result = assert_ok(project.manage("db", "upgrade", env=quiet))
    assert "Running upgrade" in result.stderr
    assert not pycache.exists()
    assert_ok(project.manage("db", "validate", env=quiet))
    assert not pycache.exists()
    pycache.mkdir()  # made by Python, or by compileall in an image
    assert_ok(project.manage("db", "validate", env=quiet))
    assert len(json.loads(cache_file(project).read_text())) == len(REVISIONS)
