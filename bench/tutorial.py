"""Each db command against the same command of the Flask-Migrate tutorial's
one-file app (tests/legacy_apps/tutorial: stock env.py, no safety net):
what a user would otherwise run, through the same door, on the same
database and the same versions/ folder. Raw alembic, which pays for no
Flask app, stays the reference of the other sections.

- A long history (the longest of the history lengths, SQLite): `db current`
  and `flask db current`; `db upgrade` at head (ours validates every
  applied revision's checksum); `db validate` against our own `db current`;
  `db upgrade` from base at each length (ours logs every revision).
- The same `db current` and `db upgrade` at head in the tutorial's app
  adopted by docs/ADOPTING.md (the safety net alone, without this project's
  web app) against the stock app: what the safety net itself costs.
- `db migrate` of the big schema (bench/autogenerate.py: 100 tables, each
  with an enum and a foreign key) from an empty database, on each backend;
  the tutorial's models get the same tables.

Every pair runs alternately, ours second; figures are medians.
"""
import shutil
import tempfile
from contextlib import contextmanager

from bench import autogenerate
from bench.long_history import chain
from bench.measure import PYTHON, compiled, environment, manage, median, project_copy, run
from bench.measure import tutorial_app as tutorial_copy
from tests.legacy_apps.adopt import adopt

# The package name the adopted tutorial's app gives the safety net.
ADOPTED_PACKAGE = "migrating"
SAFETY_NET_ALONE = "{}, the safety net alone"
# Targets: (ours, against) ratios, medians of alternating runs.
TARGETS = {
    "db current": 1.05,
    "db upgrade at head": 1.1,
    "db validate (against db current here)": 1.1,
    "db migrate": 1.1,
}


def flask(*args):
    return [PYTHON, "-m", "flask", *args]


def pair(samples, label, ours, theirs):
    """Run `theirs` then `ours` ((args, cwd, env) each), adding their times
    to samples[label]."""
    for side, (args, cwd, env) in (("theirs", theirs), ("ours", ours)):
        samples.setdefault(label, {"ours": [], "theirs": []})[side].append(
            run(args, cwd, env).seconds)


def figures(samples):
    """{label: row} of `samples`, with the label's target (None: reported
    only)."""
    rows = {}
    for label, times in samples.items():
        ours, theirs = median(times["ours"]), median(times["theirs"])
        rows[label] = {"seconds": ours, "tutorial": theirs, "ratio": ours / theirs,
                       "target": TARGETS.get(label)}
    return rows


def measure(lengths, runs, backends, migrate_runs):
    """{"commands": {label: row}, "upgrades": {length: row}, "migrate":
    {backend: row}}; a row: {"seconds", "tutorial", "ratio", "target"}
    ("tutorial" is the reference: the tutorial's command, or for db validate
    our db current)."""
    return {"commands": commands_on_history(max(lengths), runs),
            "upgrades": upgrades_from_base(lengths, max(1, runs // 3)),
            "migrate": migrate(backends, migrate_runs)}


def commands_on_history(length, runs):
    with tempfile.TemporaryDirectory() as folder, project_copy(versions=chain(length)) as root, \
            tutorial_copy() as tutorial, adopted_copy() as adopted:
        same_versions(root, tutorial)
        same_versions(root, adopted)
        env = environment("sqlite:///{}/history.db".format(folder))
        flask_env = dict(env, FLASK_APP="app")
        run(manage(root, "db", "upgrade"), root, env)
        samples = {}
        for _ in range(runs):
            pair(samples, "db current", (manage(root, "db", "current"), root, env),
                 (manage(tutorial, "db", "current"), tutorial, env))
            pair(samples, "flask db current", (flask("db", "current"), root, flask_env),
                 (flask("db", "current"), tutorial, flask_env))
            pair(samples, "db upgrade at head", (manage(root, "db", "upgrade"), root, env),
                 (manage(tutorial, "db", "upgrade"), tutorial, env))
            pair(samples, "db validate (against db current here)",
                 (manage(root, "db", "validate"), root, env),
                 (manage(root, "db", "current"), root, env))
            for command in ("current", "upgrade"):
                pair(samples, SAFETY_NET_ALONE.format("db " + command),
                     (manage(adopted, "db", command), adopted, env),
                     (manage(tutorial, "db", command), tutorial, env))
    rows = figures(samples)
    for row in rows.values():
        row["revisions"] = length
    return rows


def upgrades_from_base(lengths, runs):
    rows = {}
    with project_copy(versions=chain(max(lengths))) as root, tutorial_copy() as tutorial:
        same_versions(root, tutorial)
        for length in lengths:
            samples = {}
            target = "r{:04d}".format(length)
            for _ in range(runs):
                with tempfile.TemporaryDirectory() as ours, \
                        tempfile.TemporaryDirectory() as theirs:
                    pair(samples, "from base",
                         (manage(root, "db", "upgrade", target), root,
                          environment("sqlite:///{}/h.db".format(ours))),
                         (manage(tutorial, "db", "upgrade", target), tutorial,
                          environment("sqlite:///{}/h.db".format(theirs))))
            rows[length] = figures(samples)["from base"]
    return rows


def migrate(backends, runs):
    rows = {}
    for backend in backends:
        if backend.problem is not None:
            continue
        with tempfile.TemporaryDirectory() as folder, project_copy() as root, \
                tutorial_copy() as tutorial, backend.database(folder) as url:
            autogenerate.prepare(root, url)
            with_big_schema(tutorial)
            compiled(root)
            compiled(tutorial)
            env = environment(url)
            ours, theirs = [], []
            for _ in range(runs):
                theirs.append(autogenerate.timed(
                    manage(tutorial, "db", "migrate", "-m", "bench"), tutorial, env,
                    tutorial / "migrations" / "versions"))
                ours.append(autogenerate.timed(
                    manage(root, "db", "migrate", "-m", "bench"), root, env,
                    root / "migrations" / "versions"))
        rows[backend.name] = figures({"db migrate": {"ours": ours, "theirs": theirs}})[
            "db migrate"]
    return rows


@contextmanager
def adopted_copy():
    """The tutorial's app with the safety net taken in as docs/ADOPTING.md
    says (tests/legacy_apps/adopt.py)."""
    with tutorial_copy() as tutorial:
        adopt(tutorial, ADOPTED_PACKAGE)
        compiled(tutorial)
        yield tutorial


def same_versions(root, tutorial):
    """The tutorial's versions/ made the project copy's."""
    versions = tutorial / "migrations" / "versions"
    shutil.rmtree(versions)
    shutil.copytree(root / "migrations" / "versions", versions,
                    ignore=shutil.ignore_patterns("__pycache__"))
    compiled(tutorial)


def with_big_schema(tutorial):
    """The tutorial's models with the big schema's tables (whose foreign
    keys point at `users`), and no revisions."""
    (tutorial / "bench_schema.py").write_text(
        autogenerate.SCHEMA.format(count=autogenerate.TABLES))
    app = tutorial / "app.py"
    app.write_text(app.read_text().replace(
        "class User(db.Model):\n", "class User(db.Model):\n    __tablename__ = 'users'\n")
        + "\n\nfrom bench_schema import add_bench_tables  # noqa: E402\n\n"
          "add_bench_tables(db.metadata)\n")
    for path in (tutorial / "migrations" / "versions").glob("*.py"):
        path.unlink()
