"""`make bench`: how fast the migration workflow and the app are.

Every figure is the median of several runs and stands beside a reference
measured in the same run: raw `alembic` for the CLI and long histories, the
database driver alone for big tables, `runserver` for throughput. The results
go to bench/results/<date>-<machine>.md and .png, and the table is printed.

QUICK=1 runs small sizes, to show that everything works (CI runs it).
BENCH_ONLY=writes (names of SECTIONS, separated by commas) runs only those;
its results are named after them, so a full run's are kept. BENCH_ONLY=expand
runs the release's two phases under the writes of both releases
(bench/expand_contract.py).
BENCH_POSTGRESQL_URL and BENCH_MYSQL_URL name the servers (default: local);
a server that does not answer is left out, and the results say so.
"""
import datetime
import os
import platform
import re
import sys
import time
from importlib import metadata

from bench import (
    api_load,
    autogenerate,
    big_tables,
    cli_latency,
    expand_contract,
    lint,
    long_history,
    report,
    tutorial,
    writes_during_upgrade,
)
from bench.measure import ROOT, Backend

FULL = {
    "cli_runs": 10,
    # The tutorial ratio is a few percent: many runs to see it through the noise.
    "tutorial_runs": 40,
    "tutorial_migrate_runs": 15,
    "autogenerate_runs": 5,
    "history_lengths": [100, 250, 500], "history_runs": 3,
    "table_sizes": [10 ** 4, 10 ** 5, 10 ** 6], "table_runs": 3,
    "api_sizes": [10 ** 4, 10 ** 6], "api_requests": 200, "api_seconds": 5, "api_runs": 3,
    "writes_sizes": [10 ** 5, 10 ** 6],
    "expand_sizes": [10 ** 5, 10 ** 6], "expand_quick": False,
}
QUICK = {
    "cli_runs": 3,
    "tutorial_runs": 5,
    "tutorial_migrate_runs": 3,
    "autogenerate_runs": 3,
    "history_lengths": [20, 40, 80], "history_runs": 3,
    "table_sizes": [10 ** 3, 10 ** 4], "table_runs": 3,
    "api_sizes": [10 ** 3, 10 ** 4], "api_requests": 30, "api_seconds": 1, "api_runs": 3,
    # One size judges nothing (writes_during_upgrade.py): the smallest that
    # shows every change running under the writers.
    "writes_sizes": [10 ** 4],
    # The four changes in one revision pair, ours only: about 20 s a server.
    "expand_sizes": [10 ** 3], "expand_quick": True,
}
PACKAGES = ("Flask", "Werkzeug", "Flask-Script", "Flask-Script-NG", "Flask-Migrate",
            "alembic", "SQLAlchemy", "Flask-SQLAlchemy", "gunicorn")


def stack():
    versions = []
    for package in PACKAGES:
        try:
            versions.append("{} {}".format(package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            continue
    name = "classic" if metadata.version("Flask").startswith("1.") else "modern"
    return "{} ({})".format(name, ", ".join(versions))


def section(name, function, *args):
    started = time.monotonic()
    print("running {} ...".format(name), file=sys.stderr, flush=True)
    result = function(*args)
    print("  {} took {:.0f}s".format(name, time.monotonic() - started), file=sys.stderr)
    return result


def sections(settings, backends):
    """[(key in the results, name, function, arguments)], in the order they run."""
    return [
        ("cli", "CLI latency", cli_latency.measure, (settings["cli_runs"],)),
        ("tutorial", "each db command against the tutorial's app", tutorial.measure,
         (settings["history_lengths"], settings["tutorial_runs"], backends,
          settings["tutorial_migrate_runs"])),
        ("autogenerate", "db migrate on a big schema", autogenerate.measure,
         (backends, settings["autogenerate_runs"])),
        ("history", "long history", long_history.measure,
         (settings["history_lengths"], settings["history_runs"])),
        ("lint", "db lint", lint.measure,
         (backends, max(settings["history_lengths"]), settings["history_runs"])),
        ("tables", "big tables", big_tables.measure,
         (backends, settings["table_sizes"], settings["table_runs"])),
        ("api", "API", api_load.measure,
         (settings["api_sizes"], settings["api_requests"], settings["api_seconds"],
          settings["api_runs"])),
        ("writes", "writes during db upgrade", writes_during_upgrade.measure,
         (backends, settings["writes_sizes"])),
        ("expand", "writes of two releases during the two phases", expand_contract.measure,
         (backends, settings["expand_sizes"], settings["expand_quick"])),
    ]


def main():
    quick = os.environ.get("QUICK") == "1"
    settings = QUICK if quick else FULL
    started = time.monotonic()
    backends = [Backend(name) for name in ("sqlite", "postgresql", "mysql")]
    chosen = sections(settings, backends)
    only = [key.strip() for key in os.environ.get("BENCH_ONLY", "").split(",") if key.strip()]
    unknown = set(only) - {key for key, _, _, _ in chosen}
    if unknown:
        print("error: BENCH_ONLY names no section {}: choose among {}".format(
            ", ".join(sorted(unknown)), ", ".join(key for key, _, _, _ in chosen)),
            file=sys.stderr)
        return 1
    results = {"about": {
        "stack": stack(),
        "Python": platform.python_version(),
        "databases": "; ".join(backend.version or "{}: not available ({})".format(
            backend.name, backend.problem) for backend in backends),
        "machine": "{}, {} CPUs".format(platform.machine(), os.cpu_count()),
        "runs per figure": "median of {} (CLI: {}; against the tutorial's app: {}, "
                           "db migrate {}; writes during db upgrade and the two phases: "
                           "one upgrade per case)".format(
                               settings["table_runs"], settings["cli_runs"],
                               settings["tutorial_runs"], settings["tutorial_migrate_runs"]),
        "mode": "QUICK=1 (small sizes)" if quick else "full",
    }}
    if only:
        results["about"]["sections"] = ", ".join(only)
    for key, name, function, arguments in chosen:
        if not only or key in only:
            results[key] = section(name, function, *arguments)
    results["about"]["duration"] = "{:.0f}s".format(time.monotonic() - started)

    today = datetime.date.today().isoformat()
    machine = re.sub(r"[^A-Za-z0-9-]+", "-", platform.node()).strip("-") or "machine"
    name = "{}-{}{}{}".format(today, machine, "-quick" if quick else "",
                              "".join("-" + key for key in only))
    folder = ROOT / "bench" / "results"
    folder.mkdir(exist_ok=True)
    report.plot(results, folder / (name + ".png"))
    text = report.markdown(results, "Benchmarks: {} on {}".format(today, machine),
                           name + ".png")
    (folder / (name + ".md")).write_text(text)
    print(text)
    print("written: bench/results/{}.md and .png".format(name), file=sys.stderr)
    return 0
