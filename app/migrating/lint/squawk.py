"""squawk (the squawk-cli wheel) on the SQL of PostgreSQL revisions: the
statements of every rehearsal in one file, each revision in its own
transaction as `db upgrade` runs it, after the lock timeout `db upgrade`
sets; each finding mapped back to the revision and line that emitted the
statement.

squawk marks every finding a warning; here the rules whose danger is an
outage or lost data are errors (ERRORS). Rules about column types rather
than deploys are left out (STYLE_RULES), as is require-statement-timeout:
data migrations run long by design, and lock waits are what the lock
timeout bounds.
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import postgresql, rules
from .findings import ERROR, WARNING, Finding

ERRORS = {
    "adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field",
    "adding-serial-primary-key-field", "adding-required-field",
    "ban-alter-domain-with-add-constraint", "ban-concurrent-index-creation-in-transaction",
    "ban-create-domain-with-constraint",
    "ban-drop-column", "ban-drop-database", "ban-drop-table", "ban-truncate-cascade",
    "changing-column-type", "constraint-missing-not-valid", "disallowed-unique-constraint",
    "renaming-column", "renaming-table", "require-concurrent-index-creation",
    "transaction-nesting",
}
# Every rule of squawk 2.x, for suppressions that name one.
RULES = {
    "adding-field-with-default", "adding-foreign-key-constraint", "adding-not-nullable-field",
    "adding-serial-primary-key-field", "adding-required-field",
    "ban-alter-domain-with-add-constraint", "ban-char-field",
    "ban-concurrent-index-creation-in-transaction",
    "ban-create-domain-with-constraint", "ban-drop-column", "ban-drop-constraint",
    "ban-drop-database", "ban-drop-not-null", "ban-drop-table", "ban-truncate-cascade",
    "ban-uncommitted-transaction",
    "changing-column-type", "constraint-missing-not-valid", "disallowed-unique-constraint",
    "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity",
    "prefer-robust-stmts", "prefer-text-field", "prefer-timestamp-tz", "renaming-column",
    "require-enum-value-ordering",
    "renaming-table", "require-concurrent-index-creation", "require-concurrent-index-deletion",
    "require-lock-timeout", "require-statement-timeout", "require-table-schema",
    "transaction-nesting",
}
STYLE_RULES = ("ban-char-field", "prefer-bigint-over-int",
               "prefer-bigint-over-smallint", "prefer-identity", "prefer-robust-stmts",
               "prefer-text-field", "prefer-timestamp-tz", "require-statement-timeout")


PROGRAM_VARIABLE = "SQUAWK"
# squawk's help speaks SQL; in a revision, this is how.
IN_ALEMBIC = {
    "require-concurrent-index-creation": postgresql.CONCURRENTLY,
    "require-concurrent-index-deletion": postgresql.DROP_CONCURRENTLY,
    "disallowed-unique-constraint": postgresql.UNIQUE_USING_INDEX,
    "constraint-missing-not-valid": postgresql.NOT_VALID,
    "adding-foreign-key-constraint": postgresql.NOT_VALID,
}


class SquawkUnavailable(Exception):
    """squawk is not installed, or does not run on this platform."""


def executable():
    """The squawk program: the SQUAWK environment variable's path (a squawk
    installed some other way, e.g. by npm), else the one beside this Python
    (a virtual environment's bin/ or Scripts/), else on PATH; None when there
    is none."""
    if os.environ.get(PROGRAM_VARIABLE):
        return os.environ[PROGRAM_VARIABLE]
    folder = os.path.dirname(sys.executable)
    for name in ("squawk", "squawk.exe"):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("squawk")


@functools.lru_cache(maxsize=None)
def version():
    """squawk's version, as it prints it, or None (asked once a process)."""
    program = executable()
    if program is None:
        return None
    try:
        # The installed squawk, with a list of arguments and no shell.
        result = subprocess.run([program, "--version"], stdout=subprocess.PIPE,  # noqa: S603
                                stderr=subprocess.DEVNULL, text=True, timeout=30)
    except OSError:
        return None
    return result.stdout.strip().split()[-1] if result.returncode == 0 and result.stdout else None


def check(rehearsals, session_settings, postgresql_version=None):
    """squawk's findings for the rehearsals' statements; SquawkUnavailable
    when it cannot run. Each revision is a file of its own, so that squawk,
    like the built-in rules, takes a table as new only in the revision that
    creates it; one squawk run reads them all."""
    program = executable()
    if program is None:
        raise SquawkUnavailable("squawk is not installed (pip install squawk-cli)")
    folder = tempfile.mkdtemp(prefix="db-lint-")
    try:
        owners = {}
        for index, rehearsal in enumerate(rehearsals):
            name = "{:05d}.sql".format(index)
            lines, owners[name] = script_of(rehearsal, session_settings)
            with open(os.path.join(folder, name), "w") as script:
                script.write("\n".join(lines) + "\n")
        command = [program, "--reporter", "json", "--exclude", ",".join(STYLE_RULES)]
        if postgresql_version:
            command += ["--pg-version", str(postgresql_version)]
        try:
            result = subprocess.run(command + sorted(owners), cwd=folder,  # noqa: S603
                                    capture_output=True, text=True, timeout=300)
        except OSError as error:
            raise SquawkUnavailable("squawk ({}) does not run here: {}".format(
                program, error.strerror or error)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # squawk exits 0 without findings, 1 with them (printed); anything else,
    # or 1 with nothing printed, is squawk failing, not a clean history.
    reported = None
    if result.returncode == 0 or (result.returncode == 1 and result.stdout.strip()):
        try:
            reported = json.loads(result.stdout or "[]")
        except ValueError:
            pass
    if not isinstance(reported, list):
        raise SquawkUnavailable("squawk failed (exit code {}): {}".format(
            result.returncode,
            " ".join((result.stderr or result.stdout).strip().splitlines()[:1]) or "no output"))
    findings = []
    for violation in reported:
        lines = owners[os.path.basename(violation["file"])]
        # squawk counts lines from 0.
        rehearsal, line = lines[min(max(violation["line"], 0), len(lines) - 1)]
        if rehearsal is None:
            continue  # the session settings: squawk has nothing to say of ours
        rule = violation["rule_name"]
        safer = (violation.get("help") or "").rstrip(".") or rules.SAFER.get(
            rules.BUILT_IN_NAME.get(rule), "")
        in_alembic = (postgresql.not_null_safer("<column>", postgresql_version)
                      if rule == "adding-not-nullable-field" else IN_ALEMBIC.get(rule))
        if in_alembic:
            safer = "{}; in the revision: {}".format(safer, in_alembic).lstrip("; ")
        findings.append(Finding(
            rehearsal, line, rule, ERROR if rule in ERRORS else WARNING,
            violation["message"].rstrip("."), safer, source="squawk"))
    return findings


def script_of(rehearsal, session_settings):
    """The SQL file squawk reads for one revision, as lines, and for each
    line the rehearsal and revision line it comes from."""
    lines, owners = [], []
    for setting in session_settings:
        lines.append(setting + ";")
        owners.append((None, None))
    statements = rehearsal.statements
    for index, statement in enumerate(statements):
        # BEGIN and COMMIT belong to the statement after (or before) them.
        line = statement.line
        if line is None:
            near = statements[index + 1:] if index == 0 else reversed(statements[:index])
            line = next((other.line for other in near if other.line), None)
        text = statement.text if statement.text.endswith(";") else statement.text + ";"
        for text_line in text.splitlines():
            lines.append(text_line)
            owners.append((rehearsal, line))
    return lines, owners
