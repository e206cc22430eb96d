"""The templates `db init` writes a migration repository from: the safety
net's own, not Flask-Migrate's, so that a new repository runs this package's
env (env.py, or multidb.py for --multidb) and works on both stacks.

env.py (and the multidb script.py.mako) must import this package by the
name it has where it lives: app.migrating here; yourapp.migrating, or
migrating, in a project that adopted it. alembic copies those files as they
are, so `db init` reads the templates from a temporary copy in which
"__migrating_package__" is replaced by that name. (A placeholder that is a
Python name keeps the templates valid Python, for compileall and linters.)

alembic's init ends with "Please edit configuration/connection/logging
settings in alembic.ini before proceeding.", which is not true here: the
connection is the app's SQLALCHEMY_DATABASE_URI. `db init` (and `flask db
init`) end instead with the next step that is (NextStep).
"""
import atexit
import os
import shutil
import sys
import tempfile

from alembic.util import CommandError
from flask import current_app

from .. import doors
from ..database import describe

TEMPLATES_DIR = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = ("flask", "flask-multidb")
NAMING_FILES = ("env.py", "script.py.mako")
# The package that holds this one, as env.py imports it.
PACKAGE = __name__.rsplit(".", 1)[0]
PACKAGE_PLACEHOLDER = "__migrating_package__"
# alembic's closing advice of init, written over one line or, at a
# terminal, several: where it starts and where it ends.
EDIT_ADVICE, EDIT_ADVICE_END = "Please edit ", "proceeding."
MISSING_BINDS = (
    "this repository migrates several databases (db init --multidb), but "
    "SQLALCHEMY_BINDS is not set: set it to a JSON object of names and URLs, "
    "e.g. SQLALCHEMY_BINDS='{\"audit\": \"sqlite:////srv/audit.db\"}'")


def configure(config):
    """Flask-Migrate's configure callback (it runs for every db command):
    point `db init` at these templates, and stop a multi-database repository
    early, with the fix, when SQLALCHEMY_BINDS is missing."""
    config.get_template_directory = templates_naming_this_package
    if config.get_main_option("multidb") == "true" \
            and not current_app.config.get("SQLALCHEMY_BINDS"):
        raise CommandError(MISSING_BINDS)
    return config


def templates_naming_this_package():
    """A temporary copy of the templates in which PACKAGE_PLACEHOLDER is PACKAGE; it
    is removed when the process ends. alembic calls this only for `init`,
    which then prints the next step instead of its advice to edit alembic.ini."""
    sys.stdout = NextStep(sys.stdout, next_step())
    folder = tempfile.mkdtemp(prefix="db-init-templates-")
    atexit.register(shutil.rmtree, folder, True)
    for name in TEMPLATES:
        shutil.copytree(os.path.join(TEMPLATES_DIR, name), os.path.join(folder, name),
                        ignore=shutil.ignore_patterns("__pycache__"))
        for file_name in NAMING_FILES:
            path = os.path.join(folder, name, file_name)
            with open(path) as source:
                text = source.read()
            with open(path, "w") as rendered:
                rendered.write(text.replace(PACKAGE_PLACEHOLDER, PACKAGE))
    return folder


def next_step():
    """What to do after `db init`, in the words of the door in use."""
    return ("Next: the migrations run on {} (the app's SQLALCHEMY_DATABASE_URI, not "
            "alembic.ini); if that is not the database to migrate, change the app's "
            "configuration, then run \"{}\"".format(
                describe(current_app.config["SQLALCHEMY_DATABASE_URI"]),
                doors.command("migrate", "-m 'initial'")))


class NextStep:
    """sys.stdout while `db init` runs: alembic's closing advice to edit
    alembic.ini, however wrapped, is written as the line `line` instead;
    everything else goes through to `stream`, which is put back after."""

    def __init__(self, stream, line):
        self.stream, self.line = stream, line
        self.replacing = False

    def write(self, text):
        if not self.replacing and EDIT_ADVICE in text:
            self.replacing = True
        if not self.replacing:
            return self.stream.write(text)
        if EDIT_ADVICE_END in text:
            self.replacing = False
            sys.stdout = self.stream
            self.stream.write(self.line)
        return len(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)
