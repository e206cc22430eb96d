"""check_revisions(): the findings of db lint for a list of revisions on one
database's dialect: the built-in rules', and squawk's on PostgreSQL where
the built-in verdict on the same statement does not overrule them."""
from ..online import NAMES
from ..phases import is_post_deploy
from ..table_locks import DEFAULT_SECONDS, session_settings
from . import postgresql, rules, squawk
from .findings import ERROR, WARNING, Overruled
from .rehearsal import rehearse
from .suppressions import Suppressions

AFTER_DEPLOY = ("the revision runs after the deploy (branch post_deploy), when no code of the "
                "old release still uses what it drops")


class Database:
    """A database whose dialect the revisions are checked for: its bind name
    (None for a single-database repository), its SQLAlchemy dialect, the
    server's major version (None when not known)."""

    def __init__(self, name, dialect, major_version=None):
        self.name = name
        self.dialect = dialect
        self.major_version = major_version


class Outcome:
    """What one lint run found, and what it could not do."""

    def __init__(self):
        self.findings = []  # and the notes of squawk findings overruled (findings.Overruled)
        self.checked = 0
        self.squawk = None  # squawk's version, when it ran
        self.notes = []  # one line each: what was not checked, and why

    @property
    def errors(self):
        return [finding for finding in self.findings if finding.level == ERROR]

    @property
    def warnings(self):
        return [finding for finding in self.findings if finding.level == WARNING]


def check_revisions(config, script_directory, scripts, database, outcome=None,
                    lock_timeout=DEFAULT_SECONDS):
    """Check `scripts` (alembic Scripts, oldest first) for `database`; add
    the findings to `outcome` (a new Outcome by default) and return it.
    `lock_timeout`: the seconds db upgrade waits for a table lock (squawk is
    told the script sets it)."""
    from .. import autogenerate

    outcome = outcome or Outcome()
    dialect = database.dialect
    autogenerate.prepare(dialect.name)  # alembic-postgresql-enum's operations
    rehearsals = rehearse(config, script_directory, scripts, dialect.name, database.name)
    outcome.checked += len(rehearsals)
    found, skip = [], ()
    if dialect.name == "postgresql":
        try:
            found = overrule(squawk.check(rehearsals,
                                          session_settings("postgresql", lock_timeout),
                                          database.major_version),
                             rehearsals, dialect)
            outcome.squawk = squawk.version()
            skip = tuple(rules.SQUAWK_NAMES)
        except squawk.SquawkUnavailable as error:
            outcome.notes.append("{}: the built-in rules run without it".format(error))
    history = rules.History()
    by_revision = {}
    for rehearsal in rehearsals:
        by_revision[rehearsal.revision] = rules.check(rehearsal, dialect, history, skip)
    for finding in found:
        by_revision[finding.revision].append(finding)
    for rehearsal in rehearsals:
        suppressions = Suppressions(rehearsal)
        kept = [finding for finding in by_revision[rehearsal.revision]
                if not suppressions.allow(finding)]
        outcome.findings.extend(sorted(kept + suppressions.findings,
                                       key=lambda finding: finding.sort_key()))
    return outcome


def overrule(found, rehearsals, dialect):
    """squawk's findings, with those our verdict overrules turned into notes
    that say why: each changing-column-type at a line whose type changes
    PostgreSQL makes in its catalog alone (squawk flags every ALTER COLUMN
    TYPE), and any at a line that is an online operation (squawk reads one
    of its steps, such as the DROP CONSTRAINT of the CHECK that
    op.set_not_null_online adds and drops itself; the built-in rules judge
    the operation whole), and the drops of a revision that runs after the
    deploy."""
    catalog_only = {(rehearsal.revision, line): why for rehearsal in rehearsals
                    for line, why in postgresql.catalog_only_lines(rehearsal, dialect).items()}
    online = {(rehearsal.revision, line): why for rehearsal in rehearsals
              for line, why in online_lines(rehearsal).items()}
    type_rules = rules.SQUAWK_NAMES["change-column-type"]
    after_deploy = {rehearsal.revision for rehearsal in rehearsals
                    if is_post_deploy(rehearsal.script)}
    drop_rules = rules.SQUAWK_NAMES["drop-table"] + rules.SQUAWK_NAMES["drop-column"]
    kept = []
    for finding in found:
        where = (finding.revision, finding.line)
        if finding.rule in drop_rules and finding.revision in after_deploy:
            kept.append(Overruled(finding, AFTER_DEPLOY))
        elif finding.rule in type_rules and where in catalog_only:
            kept.append(Overruled(finding, catalog_only[where]))
        elif where in online:
            kept.append(Overruled(finding, online[where]))
        else:
            kept.append(finding)
    return kept


def online_lines(rehearsal):
    """{line: why} for each line of the rehearsed revision that runs online
    operations only."""
    names, other = {}, set()
    for step in rehearsal.steps:
        if type(step.operation) in NAMES:
            names.setdefault(step.line, NAMES[type(step.operation)])
        else:
            other.add(step.line)
    return {line: "op.{} is an online operation: the statement squawk reads is one of its "
                  "steps, and db lint judges the operation whole".format(name)
            for line, name in names.items() if line not in other}
