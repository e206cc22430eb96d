"""Who answers the questions `db migrate` has (the split of Django's
questioner): at a terminal, the person there; without one (CI, a deploy
script, a pipe), nobody, so the answer is the safe one, or a refusal that
writes no file."""
import ast
import datetime
import sys

from alembic.util import CommandError

from .. import doors

NOW = "now"
NO_REVISION = "no revision was written"


def questioner_for_this_run():
    """An InteractiveQuestioner when stdin is a terminal, else a Questioner."""
    stdin = sys.stdin
    if stdin is not None and stdin.isatty():
        return InteractiveQuestioner()
    return Questioner()


def at_a_terminal():
    """The command that asks these questions when run at a terminal: the
    door's own (db migrate, or alembic revision --autogenerate)."""
    return '"{}"'.format(doors.command("migrate", "-m <message>"))


def warn(message):
    print("warning: " + message, file=sys.stderr)


def warn_dropped(what):
    """Say that `what` (users.name, table users) goes with its data."""
    warn("{} is dropped: its data will be lost when the revision runs".format(what))


class Questioner:
    """Nobody to ask: never guess."""

    def one_off_value(self, columns, downgrade=False):
        """The value to fill existing rows with, for each of the new NOT NULL
        `columns` [(table_name, sqlalchemy Column)]: refused here for an
        upgrade; a downgrade brings dropped columns back nullable (None)."""
        names = ", ".join("{}.{}".format(table, column.name) for table, column in columns)
        if downgrade:
            warn("{} {} NOT NULL without a server_default: the downgrade adds {} back "
                 "nullable, without {} values".format(
                     names, "is" if len(columns) == 1 else "are",
                     "it" if len(columns) == 1 else "them",
                     "its" if len(columns) == 1 else "their"))
            return [None] * len(columns)
        raise CommandError(
            "{} {} NOT NULL without a server_default, so the rows the table already "
            "holds would have no value: give it a server_default, make it "
            "nullable=True, or run {} on a terminal to choose a one-off "
            "value; {}".format(names, "is" if len(columns) == 1 else "are", at_a_terminal(),
                               NO_REVISION))

    def value_for_nulls(self, columns):
        """The value for the rows holding NULL in each of `columns`
        [(table_name, column)] made NOT NULL, or None to leave them: left
        here, with a warning."""
        for table, column in columns:
            warn("{}.{} becomes NOT NULL: the upgrade fails if a row holds NULL in "
                 "it; set them in the revision first, or run {} on a terminal "
                 "to choose a value".format(table, column.name, at_a_terminal()))
        return [None] * len(columns)

    def is_rename(self, table, old, new, type_text):
        """Whether `table`.`old` was renamed to `new`; no one can say here."""
        return False

    def is_table_rename(self, old, new):
        """Whether the table `old` was renamed to `new`; no one can say here."""
        return False

    def in_halves(self, column, change):
        """Whether to write the `change` of `column` (users.id, "from INTEGER
        to BIGINT") as expand before the deploy and contract after it: the
        safe answer here, said."""
        print("note: {} {}: written as op.expand_column before the deploy and "
              "op.contract_column after it (run {} at a terminal to choose one "
              "step)".format(column, change, at_a_terminal()), file=sys.stderr)
        return True


class InteractiveQuestioner(Questioner):
    """The person at the terminal answers."""

    def one_off_value(self, columns, downgrade=False):
        return [self.ask_value(table, column, downgrade) for table, column in columns]

    def ask_value(self, table, column, downgrade):
        if downgrade:
            print("{}.{} is dropped; the downgrade adds it back NOT NULL without a "
                  "server_default, so the rows {} holds then need a value.".format(
                      table, column.name, table))
        else:
            print("{}.{} is NOT NULL and has no server_default, so the rows {} already "
                  "holds need a value.".format(table, column.name, table))
        hint = "a Python literal such as 'n/a' or 0"
        if is_temporal(column):
            hint += ", or {} for the current time".format(NOW)
        while True:
            answer = self.prompt("Value for those rows, once ({}; empty to stop): ".format(hint))
            if not answer:
                raise CommandError("stopped at {}.{}; {}".format(table, column.name, NO_REVISION))
            try:
                return value_for(column, answer)
            except ValueError as error:
                print(error)

    def value_for_nulls(self, columns):
        return [self.ask_value_for_nulls(table, column) for table, column in columns]

    def ask_value_for_nulls(self, table, column):
        print("{0}.{1} becomes NOT NULL, so the rows of {0} that hold NULL in it "
              "need a value.".format(table, column.name))
        while True:
            answer = self.prompt(
                "Value for those rows, once (a Python literal such as 'n/a' or 0; empty "
                "to leave them, and the upgrade fails if there are any): ")
            if not answer:
                return None
            try:
                return value_for(column, answer)
            except ValueError as error:
                print(error)

    def is_rename(self, table, old, new, type_text):
        answer = self.prompt("Did you rename {0}.{1} to {0}.{2} ({3})? [y/N] ".format(
            table, old, new, type_text))
        return answer.lower() in ("y", "yes")

    def is_table_rename(self, old, new):
        answer = self.prompt("Did you rename table {} to {}? [y/N] ".format(old, new))
        return answer.lower() in ("y", "yes")

    def in_halves(self, column, change):
        print("{} {}: in one step, the change locks the table while it runs (a rewrite, "
              "or the old release breaks on it).".format(column, change))
        answer = self.prompt("Write it as expand before the deploy and contract after it "
                             "(the app keeps working), or in one step? [E/o] ")
        return answer.lower() not in ("o", "one", "one step")

    @staticmethod
    def prompt(text):
        try:
            return input(text).strip()
        except EOFError:
            return ""


def is_temporal(column):
    return python_type(column) in (datetime.datetime, datetime.date, datetime.time)


def python_type(column):
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def value_for(column, answer):
    """The value `answer` gives `column`, or ValueError saying why it cannot."""
    kind = python_type(column)
    if answer.lower() in (NOW, NOW + "()") and is_temporal(column):
        return NOW
    try:
        value = ast.literal_eval(answer)
    except (ValueError, SyntaxError):
        raise ValueError("{} is not a Python literal: quote text ('n/a'), "
                         "write numbers as they are".format(answer)) from None
    if kind in (datetime.datetime, datetime.date) and isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError:
            raise ValueError("{!r} is not a date: write '2026-01-31' or "
                             "'2026-01-31 12:00:00'".format(value)) from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is not None and not isinstance(value, kind):
        raise ValueError("{} holds {} values, not {!r}".format(
            column.name, kind.__name__, value))
    enums = getattr(column.type, "enums", None)
    if enums and value not in enums:
        raise ValueError("{} is one of {}, not {!r}".format(
            column.name, ", ".join(map(repr, enums)), value))
    return value
