"""A finding of `db lint`: where (revision, file, line), which rule, how bad
(error or warning), what goes wrong in production and the safer way; and how
findings are printed, as lines or as JSON."""
import json
import os

ERROR = "error"
WARNING = "warning"


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
        database = "" if self.database is None else "[{}] ".format(self.database or "(default)")
        safer = ". Safer: {}".format(self.safer.rstrip(".")) if self.safer else ""
        return "{} {}{} {} {}: {}{}.".format(
            self.revision, database, self.where(), self.level, self.rule, self.problem, safer)

    def as_dict(self):
        return {"revision": self.revision, "database": self.database,
                "file": self.path, "line": self.line, "rule": self.rule,
                "level": self.level, "problem": self.problem, "safer": self.safer,
                "source": self.source}

    def sort_key(self):
        return (self.line or 0, self.rule)


def as_json(findings, checked, squawk):
    """The findings as one JSON document, for CI tools."""
    return json.dumps({
        "revisions_checked": checked,
        "squawk": squawk,
        "errors": sum(finding.level == ERROR for finding in findings),
        "warnings": sum(finding.level == WARNING for finding in findings),
        "findings": [finding.as_dict() for finding in findings],
    }, indent=2)


def _on_other_drive(path):
    # os.path.relpath fails across Windows drives.
    drive = os.path.splitdrive(path)[0]
    return bool(drive) and drive.lower() != os.path.splitdrive(os.getcwd())[0].lower()
