"""docs/ADOPTING.md's steps, applied to a legacy app: tests/test_adopting.py
and tests/smoke.py adopt the apps of this folder with them. Standard library
only, as smoke.py runs on any Python."""
import os
import re
import shutil
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent.parent / "app" / "migrating"
# The guide's lines, for the package imported as {package}.
FIRST_IMPORT = ("import {package}  # noqa: F401  (first: flask_script and flask_migrate "
                "then work on every Python)\n")
MIGRATE_IMPORT = "from {package} import Migrate\n"
EXTRA_COMMANDS = ('from {package} import Check, CreateDb, Lint, Log, Validate\n'
                  'MigrateCommand.add_command("check", Check())\n'
                  'MigrateCommand.add_command("createdb", CreateDb())\n'
                  'MigrateCommand.add_command("validate", Validate())\n'
                  'MigrateCommand.add_command("log", Log())\n'
                  'MigrateCommand.add_command("lint", Lint())\n'
                  'manager.add_command("db", MigrateCommand)\n')
ENV_PY = "from {package}.env import run\n\nrun()\n"
GUIDE_LINES = (FIRST_IMPORT, MIGRATE_IMPORT, EXTRA_COMMANDS, ENV_PY)
# The project root's alembic.ini of the raw alembic command, naming the app
# as {flask_app} ("manage:app" where manage.py binds Migrate).
ALEMBIC_INI = ("[alembic]\n"
               "script_location = %(here)s/migrations\n"
               "prepend_sys_path = .\n"
               "flask_app = {flask_app}\n")
# Packages that the package's pins replace under another name: Flask-Script-NG
# stands in for Flask-Script on the modern stack.
STANDS_IN_FOR = {"flask-script-ng": "flask-script"}


def copy_app(name, destination):
    """Copy the legacy app `name` of this folder to `destination`."""
    shutil.copytree(str(Path(__file__).resolve().parent / name), str(destination),
                    ignore=shutil.ignore_patterns("__pycache__"))


def adopt(root, package, swap_env=True):
    """Follow the guide in the app at `root`: copy the package in as
    `package` (steps 1-2), take its Migrate (3), add the manage.py lines (4),
    and, with `swap_env`, swap env.py (5)."""
    root = Path(root)
    shutil.copytree(str(PACKAGE), str(root.joinpath(*package.split("."))),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for path in root.glob("**/*.py"):
        text = path.read_text()
        text = text.replace("from flask_migrate import Migrate, MigrateCommand\n",
                            "from flask_migrate import MigrateCommand\n"
                            + MIGRATE_IMPORT.format(package=package))
        text = text.replace("from flask_migrate import Migrate\n",
                            MIGRATE_IMPORT.format(package=package))
        path.write_text(text)
    manage = root / "manage.py"
    text = manage.read_text()
    text = FIRST_IMPORT.format(package=package) + text
    text = text.replace("manager.add_command('db', MigrateCommand)\n",
                        EXTRA_COMMANDS.format(package=package))
    manage.write_text(text)
    if swap_env:
        swap_env_py(root, package)


def swap_env_py(root, package):
    """Step 5: migrations/env.py becomes the guide's two lines."""
    (Path(root) / "migrations" / "env.py").write_text(ENV_PY.format(package=package))


def take_pins(requirements, pins):
    """Step 2 in the requirements file `requirements`: its own pins of what
    the package's requirements file `pins` lists (or stands in for) give way
    to one `-r` line to that file, written relative to the folder of
    `requirements`, as pip reads an `-r` path."""
    requirements, pins = Path(requirements), Path(pins)
    taken = set()
    for name in map(requirement_name, pins.read_text().splitlines()):
        taken.update({name, STANDS_IN_FOR.get(name)} - {None})
    kept = [line for line in requirements.read_text().splitlines()
            if requirement_name(line) not in taken]
    include = os.path.relpath(str(pins), str(requirements.parent)).replace(os.sep, "/")
    requirements.write_text("\n".join(["-r " + include] + kept) + "\n")


def requirement_name(line):
    """The normalised name of the package a requirements line pins, or None
    for a comment, a blank line or an option (-r ...)."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    return re.split(r"[\s=<>!~;\[]", line, maxsplit=1)[0].lower().replace("_", "-")
