"""The recorded checksums of the applied revisions against their files.

A revision counts as applied when its latest successful row in the log is
an upgrade, a stamp, a baseline or an accept with a checksum (a downgrade,
an unstamp or an accept without one undo that). Each such revision's file
must still be there, with the checksum recorded then. Otherwise the
database ran code that the repository no longer holds: another environment
that upgrades from these files ends up with another schema.

`db upgrade` and `db downgrade` refuse to run until that is resolved; `db
validate` reports it without migrating; `db validate --accept <revision>`,
after a review, records the file as it is now (or, for a file removed on
purpose, that it is gone).
"""
import os
from collections import namedtuple

from alembic.util import CommandError

from .. import doors
from ..database import committed
from .checksum import checksum_of_file
from .table import read, table

APPLYING = {"upgrade", "stamp", "baseline", "accept"}
UNDOING = {"downgrade", "unstamp", "accept"}


class Problem(namedtuple("Problem", "revision message path applied_at recorded current")):
    """An applied revision whose file changed (`current` is its checksum
    now) or is gone (`path` and `current` are None)."""

    def describe(self):
        name = "{} ({})".format(self.revision, self.message) if self.message else self.revision
        when = self.applied_at.strftime("%Y-%m-%d %H:%M UTC")
        if self.path is None:
            return "revision {} was applied on {} but its file is gone".format(name, when)
        return ("revision {} in {} changed after it was applied on {} (checksum then "
                "{}, now {})".format(name, self.path, when, self.recorded[:12],
                                     self.current[:12]))

    def way_out(self):
        if self.path is None:
            return ('restore the file or, if it was removed on purpose, record that '
                    'with "{}"'.format(doors.command("validate", "--accept", self.revision)))
        return ('restore the file or, once the change is reviewed, record it with '
                '"{}"'.format(doors.command("validate", "--accept", self.revision)))


def applied(rows):
    """{revision: the row that last applied it} from the log's rows."""
    state = {}
    for row in rows:
        if not row.success:
            continue
        if row.direction in APPLYING and (row.direction != "accept" or row.checksum):
            state[row.revision] = row
        elif row.direction in UNDOING:
            state.pop(row.revision, None)
    return state


def problems(connection, script):
    """(number of applied revisions checked, [Problem])."""
    files = {revision.revision: revision for revision in script.walk_revisions()}
    found = []
    recorded = applied(read(connection))
    for revision, row in recorded.items():
        script_revision = files.get(revision)
        if script_revision is None:
            found.append(Problem(revision, row.message, None, row.started_at, row.checksum, None))
            continue
        if row.checksum is None:
            continue
        current = checksum_of_file(script_revision.path)
        if current != row.checksum:
            found.append(Problem(revision, row.message, relative(script_revision.path),
                                 row.started_at, row.checksum, current))
    return len(recorded), found


def refuse_if_invalid(connection, script):
    """Raise CommandError, naming the first problem and the way out, when an
    applied revision changed or is gone."""
    _, found = problems(connection, script)
    if found:
        more = " ({} more: see \"{}\")".format(
            len(found) - 1, doors.command("validate")) if len(found) > 1 else ""
        raise CommandError("{}{}: upgrade and downgrade are refused until you {}".format(
            found[0].describe(), more, found[0].way_out()))


def accept(connection, script, revision, who):
    """Record the reviewed file of `revision` (a problem of this database) as
    it is now; return the Problem accepted, or None when `revision` has none.
    `revision` may be a prefix of the id, as for every other command."""
    _, found = problems(connection, script)
    revision = revision_named(revision, script, found)
    for problem in found:
        if problem.revision == revision:
            now = who.now()
            with committed(connection):
                connection.execute(table.insert().values(
                    dict(who.row(), revision=revision, message=problem.message,
                    direction="accept", checksum=problem.current, started_at=now,
                    finished_at=now, duration_ms=0, success=True)))
            return problem
    return None


def revision_named(prefix, script, found):
    """The revision id that `prefix` starts, among the repository's
    revisions and those of the Problems `found` (whose file may be gone);
    CommandError when none does, or several do."""
    known = {script_revision.revision for script_revision in script.walk_revisions()}
    known.update(problem.revision for problem in found)
    if prefix in known:
        return prefix
    matches = sorted(revision for revision in known if revision.startswith(prefix))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CommandError("revision {} is ambiguous: it starts {}; give more of its "
                           "characters".format(prefix, ", ".join(matches)))
    raise CommandError("no revision starts with {}: db history lists the revisions, "
                       "db validate the changed or missing ones".format(prefix))


def relative(path):
    """`path` relative to the working directory when it lies below it."""
    relative_path = os.path.relpath(path)
    return path if relative_path.startswith(os.pardir) else relative_path
