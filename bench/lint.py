"""`db lint --all` over the generated chain of revisions (long_history.py),
against `db upgrade --sql` over the same chain on the same database: both
run every revision's upgrade() offline; lint also records each operation,
runs its rules and, on PostgreSQL, squawk."""
import tempfile

from bench.long_history import chain
from bench.measure import environment, manage, median, project_copy, run

# db lint --all at most this much over db upgrade --sql, same chain.
TARGET_RATIO = 2.0


def measure(backends, length, runs):
    """{backend: lint and --sql medians, their ratio} at `length` revisions."""
    results = {}
    with project_copy(versions=chain(length)) as root:
        for backend in backends:
            if backend.problem:
                continue
            with tempfile.TemporaryDirectory() as folder, backend.database(folder) as url:
                env = environment(url)
                lint, sql = [], []
                for _ in range(runs):
                    lint.append(run(manage(root, "db", "lint", "--all"), root, env).seconds)
                    sql.append(run(manage(root, "db", "upgrade", "--sql"), root, env).seconds)
                results[backend.name] = {"revisions": length, "seconds": median(lint),
                                         "sql": median(sql),
                                         "ratio": median(lint) / median(sql)}
    return results
