"""`import flask_script` on both stacks and every Python, for flask_migrate
and for any legacy manage.py.

- The classic stack has the original Flask-Script 2.0.6. Its
  `@manager.command` (and every Command built from a function) calls
  `inspect.getargspec`, which Python 3.11 removed: a manage.py using it fails
  on import, `db upgrade` included. Flask-Script is given an `inspect` of its
  own that has getargspec again; the standard library's is left alone.
- The modern stack has Flask-Script-NG, the maintained fork with the same
  API, imported as flask_script_ng; it is registered as `flask_script`.

Flask-Migrate 2.7 builds MigrateCommand only if `from flask_script import
Manager` works when flask_migrate is first imported, so this module must run
before that: importing the migrating package runs it first. The `flask`
command imports flask_migrate before the app (its `db` group is a plugin), so
under `flask` with FLASK_APP=manage.py on the modern stack flask_migrate is
imported again here, to build the MigrateCommand that manage.py mounts.
"""
import importlib
import inspect
import sys
import types
from collections import namedtuple

FORK = "flask_script_ng"
FORK_SUBMODULES = ("_compat", "cli", "commands")

ArgSpec = namedtuple("ArgSpec", "args varargs keywords defaults")


def getargspec(function):
    """What inspect.getargspec returned before Python 3.11 removed it."""
    spec = inspect.getfullargspec(function)
    return ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)


def build_migrate_command():
    """Import flask_migrate again if it was imported while flask_script was
    not importable: its MigrateCommand is then a stand-in without commands
    (Flask-Migrate's FakeCommand), which manage.py cannot mount as `db`."""
    flask_migrate = sys.modules.get("flask_migrate")
    if flask_migrate is not None and \
            type(getattr(flask_migrate, "MigrateCommand", None)).__name__ == "FakeCommand":
        importlib.reload(flask_migrate)


def inspect_with_getargspec():
    """A copy of the inspect module with getargspec, for Flask-Script alone."""
    module = types.ModuleType("inspect")
    module.__dict__.update(inspect.__dict__)
    module.getargspec = getargspec
    return module


try:
    import flask_script.commands  # the original, on the classic stack
except ImportError:
    sys.modules["flask_script"] = importlib.import_module(FORK)
    for name in FORK_SUBMODULES:
        sys.modules["flask_script." + name] = importlib.import_module(FORK + "." + name)
    build_migrate_command()
else:
    if not hasattr(inspect, "getargspec"):
        flask_script.commands.inspect = inspect_with_getargspec()
