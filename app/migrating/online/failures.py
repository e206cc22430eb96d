"""What an online operation says when the rows refuse it: one line naming
the rows' problem and the way out, which the env puts in its failure line."""
from ..database import database_error, first_line

# PostgreSQL SQLSTATEs: unique_violation, foreign_key_violation, check_violation.
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
CHECK_VIOLATION = "23514"
# MySQL: duplicate entry.
MYSQL_DUPLICATE_ENTRY = 1062
RERUN = "then run the command again"


class StepRefused(Exception):
    """An online step the table's rows refuse (duplicates for a unique index,
    orphans for a foreign key, NULLs for NOT NULL); its message says which
    and what to do. Whatever the step left behind (an invalid index, a
    constraint not yet validated) is taken up by the next run."""


def refused_by_rows(error):
    """True when the database refused `error`'s statement because of the
    rows it holds (not the schema, not a lock)."""
    cause = database_error(error)
    code = getattr(cause, "pgcode", None)
    if code in (UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION, CHECK_VIOLATION):
        return True
    arguments = getattr(cause, "args", ())
    return bool(arguments) and arguments[0] == MYSQL_DUPLICATE_ENTRY


def refusal(what, error):
    """StepRefused for `error`, a rows problem: `what` happened (the
    database's detail, when it gives one), fix the rows, run again."""
    cause = database_error(error)
    detail = getattr(getattr(cause, "diag", None), "message_detail", None)
    return StepRefused("{} ({}): fix those rows, {}".format(
        what, detail or first_line(cause), RERUN))
