"""A finding of `db lint`: where (revision, file, line), which rule, how bad
(error or warning), what goes wrong in production and the safer way; a note
for a squawk finding that the built-in verdict overruled; and how they are
printed, as lines or as JSON."""
import json
import os

ERROR = "error"
WARNING = "warning"
# Not a finding: what db lint says of a squawk finding it dropped.
NOTE = "note"


class Finding:
    def __init__(self, rehearsal, line, rule, level, problem, safer, source="built-in"):
        self.revision = rehearsal.revision
        self.path = rehearsal.path
        self.database = rehearsal.database
        self.line = line
        self.rule = rule
        self.level = level
        self.problem = problem
        self.safer = safer
        self.source = source  # "built-in" or "squawk"

    def where(self):
        path = os.path.relpath(self.path) if not _on_other_drive(self.path) else self.path
        return "{}:{}".format(path, self.line) if self.line else path

    def as_line(self):
        safer = ". Safer: {}".format(self.safer.rstrip(".")) if self.safer else ""
        return "{} {}{} {} {}: {}{}.".format(
            self.revision, database_prefix(self.database), self.where(), self.level,
            self.rule, self.problem, safer)

    def as_dict(self):
        return {"revision": self.revision, "database": self.database,
                "file": self.path, "line": self.line, "rule": self.rule,
                "level": self.level, "problem": self.problem, "safer": self.safer,
                "source": self.source}

    def sort_key(self):
        return (self.line or 0, self.rule)


class Overruled:
    """A squawk finding that the built-in verdict on the same statement
    overrules (squawk flags every ALTER COLUMN TYPE; a longer VARCHAR
    changes only PostgreSQL's catalog): dropped, and said as a note with the
    reason. It sorts and prints among the findings, at its line."""

    level = NOTE

    def __init__(self, finding, reason):
        self.finding = finding
        self.revision = finding.revision
        self.rule = finding.rule  # a suppression of the rule silences the note too
        self.reason = reason

    def as_line(self):
        finding = self.finding
        return "{} {}note: squawk's {} at {} is overruled: {}.".format(
            self.revision, database_prefix(finding.database), self.rule,
            finding.where(), self.reason)

    def as_dict(self):
        finding = self.finding
        return {"revision": self.revision, "database": finding.database,
                "file": finding.path, "line": finding.line, "rule": self.rule,
                "source": finding.source, "reason": self.reason}

    def sort_key(self):
        return self.finding.sort_key()


def as_json(findings, checked, squawk):
    """The findings as one JSON document, for CI tools; the notes of the
    squawk findings the built-in verdicts overruled under "overruled"."""
    return json.dumps({
        "revisions_checked": checked,
        "squawk": squawk,
        "errors": sum(finding.level == ERROR for finding in findings),
        "warnings": sum(finding.level == WARNING for finding in findings),
        "findings": [finding.as_dict() for finding in findings if finding.level != NOTE],
        "overruled": [note.as_dict() for note in findings if note.level == NOTE],
    }, indent=2)


def database_prefix(database):
    """"[name] " before the file of a multidb repository's finding."""
    return "" if database is None else "[{}] ".format(database or "(default)")


def _on_other_drive(path):
    # os.path.relpath fails across Windows drives.
    drive = os.path.splitdrive(path)[0]
    return bool(drive) and drive.lower() != os.path.splitdrive(os.getcwd())[0].lower()
