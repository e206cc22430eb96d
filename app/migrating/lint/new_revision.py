"""`db migrate` lints the revision it has just written, and prints what it
finds: an Alembic post-write hook ("db_lint"), which the configure callback
adds to every command's config. It never fails the command: the revision
is written, and the findings say what to review before it is committed.

(alembic 1.16+ reads post-write hooks from pyproject.toml only when the ini
file has no [post_write_hooks] section; adding one here would hide them, so
a project that keeps its hooks in pyproject.toml gets no lint after db
migrate: run `db lint REV` by hand there.)
"""
import os
import re
import sys

from alembic.script import Script, ScriptDirectory, write_hooks

from .. import revision_modules
from ..database import bind_engines, bound_migrate
from ..table_locks import table_lock_timeout

HOOK = "db_lint"
SECTION = "post_write_hooks"
REVISION_LINE = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def configure(config):
    """Flask-Migrate's configure callback: run the hook after db migrate
    writes a revision, beside any hooks of the project's alembic.ini."""
    if not config.file_config.has_section(SECTION):
        if _has_toml_hooks(config):
            return config
        config.file_config.add_section(SECTION)
    hooks = config.get_section_option(SECTION, "hooks", "") or ""
    if HOOK not in re.split(r"[\s,]+", hooks):
        config.set_section_option(SECTION, "hooks", ", ".join(filter(None, [hooks, HOOK])))
        config.set_section_option(SECTION, HOOK + ".type", HOOK)
    return config


@write_hooks.register(HOOK)
def lint_written_revision(path, options):
    """Print the findings of db lint on the revision file at `path`."""
    from .check import Database, Outcome, check_revisions

    try:
        with open(path) as source:
            revision = REVISION_LINE.search(source.read()).group(1)
        versions = os.path.dirname(os.path.abspath(path))
        config, script_directory, written = the_written_revision(path, versions, revision)
        scripts = [written]
        outcome = Outcome()
        for name, engine in databases_of(config):
            version = getattr(engine.dialect, "server_version_info", None)
            check_revisions(config, script_directory, scripts,
                 Database(name, engine.dialect, version[0] if version else None),
                 outcome, table_lock_timeout({}))
    except Exception as error:  # the revision is written whatever happens here
        print("db lint could not check the new revision: {}".format(error), file=sys.stderr)
        return
    if outcome.errors or outcome.warnings:
        print("db lint: {} error(s), {} warning(s) in the new revision; review them before "
              "you commit it (a revision may allow a rule with `# lint: allow <rule> — "
              "<reason>`):".format(len(outcome.errors), len(outcome.warnings)))
    else:
        print("db lint: the new revision has no findings")
    for finding in outcome.findings:  # and the notes of squawk findings overruled
        print("  " + finding.as_line())


def the_written_revision(path, versions, revision):
    """(Config, ScriptDirectory, Script of the file at `path`): in the
    command's own ScriptDirectory, whose history is loaded, when it is known
    (revision_modules.in_use); otherwise in one built from the repository,
    which loads the history again."""
    in_use = revision_modules.in_use(versions)
    if in_use is not None:
        config, script_directory = in_use
        # Loaded now: alembic adds the file to its map after the hooks ran.
        written = Script._from_path(script_directory, path)
        if written is not None and written.revision == revision:
            return config, script_directory, written
    directory = os.path.dirname(versions) if os.path.basename(versions) == "versions" \
        else None
    config = bound_migrate().migrate.get_config(directory)
    script_directory = ScriptDirectory.from_config(config)
    return config, script_directory, script_directory.get_revision(revision)


def databases_of(config):
    """(bind name, engine) of each database the repository migrates: the
    default one (name None), or, for a multidb repository, each bind ('' for
    the default)."""
    engines = bind_engines(bound_migrate().db)
    if config.get_main_option("multidb") != "true":
        return [(None, engines[None])]
    return [("" if key is None else key, engine) for key, engine in engines.items()]


def _has_toml_hooks(config):
    toml_value = getattr(config, "_get_toml_config_value", None)
    return bool(toml_value and toml_value(SECTION, None))
