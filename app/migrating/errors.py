"""One line instead of a traceback: a failure a user can fix from the
message alone ends the program with `error: <message>` on stderr and exit
code 1, whichever door the command came through (manage.py, flask, alembic).
Anything else is a bug and keeps its traceback."""
import configparser
import os
import re
import sys
import warnings

from alembic.script.revision import RevisionError
from flask.cli import NoAppException
from sqlalchemy.exc import DBAPIError, NoSuchModuleError

from .database import (
    DatabaseMismatch,
    DatabaseUnavailable,
    MigrateNotBound,
    first_line,
    postgres_scheme_dropped,
)

# Errors whose message says what is wrong and what to do; the app adds its
# own (its configuration error, say) through report_errors_in_one_line.
EXPECTED_ERRORS = [DatabaseUnavailable, DatabaseMismatch, MigrateNotBound]
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


def one_line(error):
    """The line that explains `error`, or None when it is not a failure a
    user can fix (a bug)."""
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
