"""The three doors to the same migrations, and each one's words.

    python manage.py db upgrade    Flask-Script's Manager with MigrateCommand
    flask db upgrade               Flask-Migrate's click group (and the
                                   flask db-check, db-createdb, ... of
                                   commands.py beside it)
    alembic upgrade head           the raw alembic command (alembic.ini at the
                                   project root, env.py pushes the app)

A hint names the command to run next in the words of the door the person
used: command("upgrade") is "python manage.py db upgrade", "flask db upgrade"
or "alembic upgrade head". The door is known from how the process was
started, once; anything else (a test calling alembic.command, a deploy
script importing the app) gets the manage.py words, this package's first
door.
"""
import os
import sys

import click
from flask.cli import FlaskGroup

MANAGE, FLASK, ALEMBIC = "manage.py", "flask", "alembic"
# The safety net's own commands: `db <name>` under manage.py, `flask
# db-<name>` beside Flask-Migrate's group (which cannot take them).
OWN_COMMANDS = {"check", "createdb", "validate", "log", "lint"}
# The raw alembic command's words for the db commands that differ; the
# safety net's own commands other than check have none, and keep manage.py's.
ALEMBIC_WORDS = {"upgrade": "upgrade head", "migrate": "revision --autogenerate",
                 "check": "check"}


def door():
    """MANAGE, FLASK or ALEMBIC: the door this process came through, from
    the running click command (`flask`) or the program's name (`alembic`,
    `python -m alembic`); else manage.py's. (Asked anew each time: a test
    may run several doors in one process.)"""
    if is_flask_cli():
        return FLASK
    if program_name() == "alembic" or program_path().endswith(
            os.path.join("alembic", "__main__.py")):
        return ALEMBIC
    return MANAGE


def program_path():
    """The program this process runs, as it was started ("" when embedded)."""
    return sys.argv[0] if getattr(sys, "argv", None) else ""


def program_name():
    """The program this process runs, without its folder."""
    return os.path.basename(program_path())


def is_flask_cli():
    """Whether a command of the `flask` command line runs now."""
    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.find_root().command, FlaskGroup)


def command(name, *args, x=None):
    """The command line that runs the db command `name` with `args` through
    this process's door; `x`: an -x argument ("phase=post-deploy"), which
    the raw alembic command takes before the command's name."""
    used = door()
    if used == ALEMBIC and (name in ALEMBIC_WORDS or name not in OWN_COMMANDS):
        words = ["alembic"] + (["-x", x] if x else []) + [ALEMBIC_WORDS.get(name, name)]
        return " ".join(words + list(args))
    if used == FLASK:
        words = ["flask", "db-" + name if name in OWN_COMMANDS else "db " + name]
    else:
        words = [manage_py(), "db", name]
    return " ".join(words + list(args) + (["-x", x] if x else []))


def manage_py():
    """`python manage.py`, or the name of the script Flask-Script runs when
    a project calls its manage.py otherwise; manage.py's words elsewhere
    (alembic, tests)."""
    program = program_name()
    if door() == MANAGE and program.endswith(".py") and program != "__main__.py":
        return "python " + program
    return "python manage.py"
