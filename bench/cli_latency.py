"""How long `python manage.py db current`, `db heads` and a no-op
`db upgrade` take, against raw `alembic` doing the same on the same database
and versions/ folder, and against `flask db current` (the tutorial's
one-file app: bench/tutorial.py)."""
import tempfile

from bench.measure import (
    PYTHON,
    alembic,
    alembic_ini,
    environment,
    manage,
    median,
    project_copy,
    run,
)

TARGET_RATIO = 1.25
# The libraries manage.py cannot do without, imported and nothing else: the
# floor under its ratio (Flask-Script, or its fork on the modern stack).
IMPORT_FLOOR = ("import importlib, importlib.util, flask_sqlalchemy, flask_migrate\n"
                "importlib.import_module('flask_script' if importlib.util.find_spec("
                "'flask_script') else 'flask_script_ng')")


def measure(runs):
    """{label: {"seconds", "alembic", "ratio"}}, medians of `runs` each, the
    commands interleaved so that drift hits all alike."""
    with tempfile.TemporaryDirectory() as folder, project_copy() as root:
        url = "sqlite:///{}/cli.db".format(folder)
        env = environment(url)
        run(manage(root, "db", "upgrade"), root, env)
        alembic_ini(root, url)
        commands = {
            "db current": (manage(root, "db", "current"), alembic(root, "current")),
            "db heads": (manage(root, "db", "heads"), alembic(root, "heads")),
            "db upgrade (at head)": (manage(root, "db", "upgrade"),
                                     alembic(root, "upgrade", "head")),
            "flask db current": ([PYTHON, "-m", "flask", "db", "current"],
                                 alembic(root, "current")),
            "imports only (the floor)": ([PYTHON, "-c", IMPORT_FLOOR],
                                         alembic(root, "current")),
        }
        env_flask = dict(env, FLASK_APP="app")
        samples = {label: ([], []) for label in commands}
        for _ in range(runs):
            for label, (ours, reference) in commands.items():
                samples[label][1].append(run(reference, root, env).seconds)
                samples[label][0].append(run(ours, root, env_flask).seconds)
    results = {}
    for label, (ours, reference) in samples.items():
        results[label] = {"seconds": median(ours), "alembic": median(reference),
                          "ratio": median(ours) / median(reference)}
    return results
