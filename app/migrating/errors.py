"""One line instead of a traceback: a failure a user can fix from the
message alone ends the program with `error: <message>` on stderr and exit
code 1, whichever door the command came through (manage.py, flask, alembic).
Anything else is a bug and keeps its traceback.

A revision file is the user's code, so its mistakes are the user's to fix:
one that cannot be imported (an ImportError, a SyntaxError, a NameError at
import time) or lacks upgrade() or downgrade() stops every command that
reads the history, in a line naming the file and the line; one that raises
while it runs is named with its exception and line (revision_failure)."""
import configparser
import difflib
import os
import re
import sys
import traceback
import warnings
import weakref

from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from flask.cli import NoAppException
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from . import revision_modules
from .database import (
    DatabaseMismatch,
    DatabaseUnavailable,
    MigrateNotBound,
    database_error,
    first_line,
    postgres_scheme_dropped,
)
from .log.validation import relative

# The alembic functions that import a revision file (load_module_pyc before
# alembic 1.5's load_module_py served .pyc files too).
LOADING_FUNCTIONS = {"load_module_py", "load_module_pyc"}
FIX_AND_RERUN = "fix the file and run the command again"
ENV_PY = "env.py"
DIRECTIONS = ("upgrade", "downgrade")


class RevisionFileBroken(RevisionError):
    """A revision file alembic loaded cannot run: it lacks upgrade() or
    downgrade(). The message names the file and what to do. (A RevisionError,
    which the app's health check and runserver's warning report as such.)"""

    @classmethod
    def lacking(cls, revision, direction):
        """The error for the Script `revision`, which has no `direction`()."""
        module = revision.module
        functions = {name: value for name, value in vars(module).items()
                     if callable(value) and name not in DIRECTIONS
                     and getattr(value, "__module__", None) == module.__name__}
        close = difflib.get_close_matches(direction, functions, n=1)
        if close:
            line = functions[close[0]].__code__.co_firstlineno
            return cls("cannot load revision {}, line {}: it defines {}() but no {}(); "
                       "{}".format(relative(revision.path), line, close[0], direction,
                                   FIX_AND_RERUN))
        return cls("cannot load revision {}: it defines no {}() function; {}".format(
            relative(revision.path), direction, FIX_AND_RERUN))


def require_functions(revision):
    """Raise RevisionFileBroken unless the Script `revision` defines
    upgrade() and downgrade()."""
    for direction in DIRECTIONS:
        if not callable(getattr(revision.module, direction, None)):
            raise RevisionFileBroken.lacking(revision, direction)


_CHECKED = weakref.WeakSet()  # the ScriptDirectories require_revision_files checked


def require_revision_files(script):
    """Load every revision file of the ScriptDirectory `script` (alembic
    keeps them loaded for the command), and raise what loading one raises,
    or RevisionFileBroken for one without upgrade() or downgrade(): so that
    every command that reads the history stops on a broken file, not only
    the upgrade or downgrade that would run it. Returns the revisions; a
    ScriptDirectory checked once is not checked again (the command takes
    the one the configure callback checked, revision_modules.py)."""
    if script in _CHECKED:
        return None
    revisions = list(script.walk_revisions())
    for revision in revisions:
        require_functions(revision)
    _CHECKED.add(script)
    return revisions


def refuse_broken_revisions(config):
    """Flask-Migrate's configure callback (it runs for every db command):
    require_revision_files of the repository `config` names, when there is
    one (not before `db init`); the command then takes the modules loaded
    here instead of loading the history again (revision_modules.py)."""
    location = config.get_main_option("script_location")
    if location and os.path.exists(os.path.join(location, ENV_PY)):
        script = ScriptDirectory.from_config(config)
        revision_modules.hand_over(script, require_revision_files(script), config)
    return config


# Errors whose message says what is wrong and what to do; the app adds its
# own (its configuration error, say) through report_errors_in_one_line.
EXPECTED_ERRORS = [DatabaseUnavailable, DatabaseMismatch, RevisionFileBroken, MigrateNotBound]
# SQLAlchemy's NoSuchModuleError for a URL written postgres:// (or postgres+driver://).
POSTGRES_PLUGIN = re.compile(r"sqlalchemy\.dialects:postgres(\.|$)")
# How the raw alembic command names the app it migrates.
NAMING_THE_APP = ("name it in alembic.ini's flask_app (or FLASK_APP) as FLASK_APP takes it: "
                  "module:app, or module:create_app('default') with literal arguments, "
                  "e.g. manage:app")
# alembic only warns when a revision's down_revision names no file, then
# fails on a bare KeyError; the warning is the message.
MISSING_REVISION_WARNING = r"Revision \S+ referenced from .* is not present"


def report_errors_in_one_line(*error_types):
    """Make expected failures, and `error_types` (exception classes of the
    app whose message says all), end the program in one line with exit code
    1. Safe to call more than once."""
    EXPECTED_ERRORS.extend(t for t in error_types if t not in EXPECTED_ERRORS)
    sys.excepthook = report_error
    warnings.filterwarnings("error", message=MISSING_REVISION_WARNING, category=UserWarning)


def loading_failure(error):
    """The line for `error` when alembic raised it importing a revision file
    (a misspelt import, a SyntaxError, a NameError at import time), naming
    the file and line; None for any other error."""
    frames = list(traceback.walk_tb(error.__traceback__))
    path = next((str(frame.f_locals.get("path")) for frame, _ in reversed(frames)
                 if frame.f_code.co_name in LOADING_FUNCTIONS
                 and os.sep + "alembic" + os.sep in frame.f_code.co_filename), None)
    # alembic loads env.py the same way, and runs the whole command in it.
    if path is None or os.path.basename(path) == ENV_PY:
        return None
    if isinstance(error, SyntaxError) and error.filename == path:
        line, message = error.lineno, error.msg
    else:
        line = next((number for frame, number in reversed(frames)
                     if frame.f_code.co_filename == path), None)
        message = message_of(error)
    return "cannot load revision {}{}: {}: {}; {}".format(
        relative(path), "" if line is None else ", line {}".format(line),
        type(error).__name__, message, FIX_AND_RERUN)


def message_of(error):
    """The first line of `error`'s message, without the module path an
    ImportError appends."""
    message = first_line(error) if str(error).strip() else ""
    where = getattr(error, "path", None) if isinstance(error, ImportError) else None
    if where and message.endswith(" ({})".format(where)):
        message = message[:-len(where) - 3]
    return message


def revision_failure(error, revision_path):
    """What a revision that raised `error` while it ran says: what the
    database said, or the exception's type and message; then where, the
    last line of a revision file in the traceback (the folder of
    `revision_path`), when there is one."""
    cause = database_error(error)
    if cause is error and not isinstance(error, DBAPIError):
        message = message_of(error)
        said = type(error).__name__ + (": " + message if message else "")
    else:
        said = first_line(cause)
    folder = os.path.dirname(os.path.abspath(revision_path))
    where = next(("{}, line {}".format(relative(frame.f_code.co_filename), number)
                  for frame, number in reversed(list(traceback.walk_tb(error.__traceback__)))
                  if os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == folder),
                 None)
    return said if where is None else "{} in {}".format(said, where)


def one_line(error):
    """The line that explains `error`, or None when it is not a failure a
    user can fix (a bug)."""
    loading = loading_failure(error)
    if loading is not None:
        return loading
    if isinstance(error, tuple(EXPECTED_ERRORS)):
        return str(error)
    if isinstance(error, DBAPIError):
        return "database error: " + first_line(error.orig)
    if isinstance(error, RevisionError):
        return "the migration history is broken: " + str(error)
    if isinstance(error, UserWarning):
        return ("the migration history is broken: {}; restore that revision's file "
                "or fix the down_revision that names it".format(error))
    if isinstance(error, configparser.Error):
        source = getattr(error, "source", None)
        return "cannot read {}: {}".format(source or "alembic.ini", first_line(error))
    if isinstance(error, NoSuchModuleError) and POSTGRES_PLUGIN.search(str(error)):
        return postgres_scheme_dropped("the app's database URL")
    if isinstance(error, NoAppException):  # only the raw alembic command loads it unguarded
        return "cannot load the app ({}): {}".format(first_line(error).rstrip("."),
                                                     NAMING_THE_APP)
    return None


def report_error(error_type, error, traceback):
    """sys.excepthook: one line for what one_line explains, else the traceback."""
    if isinstance(error, BrokenPipeError):
        # The reader stopped reading (`db log | head`): nothing is wrong, and
        # the output still buffered must not fail again at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return
    message = one_line(error)
    if message is None:
        sys.__excepthook__(error_type, error, traceback)
        return
    print("error: " + message, file=sys.stderr)
