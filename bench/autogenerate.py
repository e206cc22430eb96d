"""What `db migrate` costs on a big schema: 100 tables, each with an enum
column and a foreign key, compared with an empty database; against raw
`alembic revision --autogenerate` (a plain Alembic env, no Flask, no
rewriting) comparing the same tables with the same database, same run.

Both start from a database with no tables and a repository with no
revisions, and write a revision creating every table; the file is removed
after each run. Ours does all it adds: the enum comparison
(alembic-postgresql-enum on PostgreSQL, the CHECK comparison on SQLite),
the rename and NOT NULL questions, the operation order.

Two more figures say where the difference goes: on PostgreSQL, the plain
env with alembic-postgresql-enum imported (the library's own cost); on
every backend, `db heads` against `alembic heads` (the start-up of a Flask
app, which reads no database).
"""
import shutil
import tempfile
from pathlib import Path

from bench.measure import BIN, compiled, environment, manage, median, project_copy, run

TARGET_RATIO = 1.2
TABLES = 100

# The schema, as a function that adds the tables to a MetaData: the app's
# models.py calls it on db.metadata, the reference env on its own.
SCHEMA = '''
import sqlalchemy as sa


def add_bench_tables(metadata, count={count}):
    for n in range(count):
        sa.Table(
            "bench_{{:03d}}".format(n), metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("title", sa.String(80), nullable=False),
            sa.Column("state", sa.Enum("new", "open", "closed", name="state_{{:03d}}".format(n),
                                       create_constraint=True),
                      nullable=False, server_default="new"),
            sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), index=True),
        )
'''

REFERENCE_ENV = '''"""A plain Alembic env for autogenerate: the same tables (and a users
table for their foreign keys) on a MetaData of its own, no Flask."""
import sqlalchemy as sa
from alembic import context

from bench_schema import add_bench_tables
{library}
metadata = sa.MetaData()
sa.Table("users", metadata, sa.Column("id", sa.Integer, primary_key=True))
add_bench_tables(metadata)
engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
'''


def prepare(root, url):
    """Make the project copy at `root` a big-schema one with no revisions,
    and the reference repositories beside it; return their alembic.ini
    files: {"plain": ..., "with library": ...}."""
    (root / "bench_schema.py").write_text(SCHEMA.format(count=TABLES))
    models = root / "app" / "models.py"
    models.write_text(models.read_text() + (
        "\n\nfrom bench_schema import add_bench_tables  # noqa: E402\n\n"
        "add_bench_tables(db.metadata)\n"))
    versions = root / "migrations" / "versions"
    shutil.rmtree(versions)
    versions.mkdir()
    inis = {}
    libraries = (("plain", ""), ("with library", "import alembic_postgresql_enum  # noqa\n"))
    for label, library in libraries:
        reference = root / label.replace(" ", "_")
        (reference / "versions").mkdir(parents=True)
        (reference / "env.py").write_text(REFERENCE_ENV.format(library=library))
        shutil.copy(root / "alembic_env" / "script.py.mako", reference / "script.py.mako")
        inis[label] = root / (reference.name + ".ini")
        inis[label].write_text("[alembic]\nscript_location = {}\nprepend_sys_path = {}\n"
                               "sqlalchemy.url = {}\n".format(reference, root,
                                                              url.replace("%", "%%")))
    return inis


def without_startup(row):
    """The ratio with the Flask app's start-up taken out of ours: what the
    comparison and the rewriting cost against raw alembic's."""
    return (row["seconds"] - row["startup"]) / row["alembic"]


def raw_alembic(ini, *args):
    return [str(BIN / "alembic"), "-c", str(ini), *args]


def timed(args, root, env, folder):
    """Seconds `args` took; the revision it wrote in `folder` is removed."""
    seconds = run(args, root, env).seconds
    for path in Path(folder).glob("*.py"):
        path.unlink()
    return seconds


def measure(backends, runs):
    """{backend: {"seconds", "alembic", "ratio", "startup", and on
    PostgreSQL "with_library"}}: medians of `runs` runs each, ours and the
    references interleaved."""
    results = {}
    for backend in backends:
        if backend.problem is not None:
            continue
        with tempfile.TemporaryDirectory() as folder, project_copy() as root, \
                backend.database(folder) as url:
            inis = prepare(root, url)
            compiled(root)
            env = environment(url)
            autogenerate = ("revision", "--autogenerate", "-m", "bench")
            samples = {"seconds": [], "alembic": [], "with_library": [],
                       "heads": [], "alembic_heads": []}
            for _ in range(runs):
                samples["alembic"].append(timed(raw_alembic(inis["plain"], *autogenerate),
                                                root, env, root / "plain" / "versions"))
                if backend.name == "postgresql":
                    samples["with_library"].append(timed(
                        raw_alembic(inis["with library"], *autogenerate), root, env,
                        root / "with_library" / "versions"))
                samples["seconds"].append(timed(manage(root, "db", "migrate", "-m", "bench"),
                                                root, env, root / "migrations" / "versions"))
                samples["heads"].append(run(manage(root, "db", "heads"), root, env).seconds)
                samples["alembic_heads"].append(
                    run(raw_alembic(inis["plain"], "heads"), root, env).seconds)
        row = {key: median(values) for key, values in samples.items() if values}
        row["ratio"] = row["seconds"] / row["alembic"]
        row["startup"] = row.pop("heads") - row.pop("alembic_heads")
        results[backend.name] = row
    return results
