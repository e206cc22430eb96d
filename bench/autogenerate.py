"""What `db migrate` costs on a big schema: 100 tables, each with an enum
column and a foreign key, compared with an empty database; against raw
`alembic revision --autogenerate` (a plain Alembic env, no Flask, no
rewriting) comparing the same tables with the same database, same run.

Both start from a database with no tables and a repository with no
revisions, and write a revision creating every table; the file is removed
after each run. Ours does all it adds: the enum comparison
(alembic-postgresql-enum on PostgreSQL, the CHECK comparison on SQLite),
the rename and NOT NULL questions, the operation order.
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
    and a reference repository beside it; return the reference's alembic.ini."""
    (root / "bench_schema.py").write_text(SCHEMA.format(count=TABLES))
    models = root / "app" / "models.py"
    models.write_text(models.read_text() + (
        "\n\nfrom bench_schema import add_bench_tables  # noqa: E402\n\n"
        "add_bench_tables(db.metadata)\n"))
    versions = root / "migrations" / "versions"
    shutil.rmtree(versions)
    versions.mkdir()
    reference = root / "reference"
    (reference / "versions").mkdir(parents=True)
    (reference / "env.py").write_text(REFERENCE_ENV)
    shutil.copy(root / "alembic_env" / "script.py.mako", reference / "script.py.mako")
    ini = root / "reference.ini"
    ini.write_text("[alembic]\nscript_location = {}\nprepend_sys_path = {}\n"
                   "sqlalchemy.url = {}\n".format(reference, root, url.replace("%", "%%")))
    return ini


def clear(folder):
    for path in Path(folder).glob("*.py"):
        path.unlink()


def measure(backends, runs):
    """{backend: {"seconds", "alembic", "ratio"}}: medians of `runs`
    autogenerate runs each, ours and the reference interleaved."""
    results = {}
    for backend in backends:
        if backend.problem is not None:
            continue
        with tempfile.TemporaryDirectory() as folder, project_copy() as root, \
                backend.database(folder) as url:
            ini = prepare(root, url)
            compiled(root)
            env = environment(url)
            raw = [str(BIN / "alembic"), "-c", str(ini), "revision", "--autogenerate",
                   "-m", "bench"]
            ours, reference = [], []
            for _ in range(runs):
                reference.append(run(raw, root, env).seconds)
                clear(root / "reference" / "versions")
                ours.append(run(manage(root, "db", "migrate", "-m", "bench"), root, env).seconds)
                clear(root / "migrations" / "versions")
        results[backend.name] = {"seconds": median(ours), "alembic": median(reference),
                                 "ratio": median(ours) / median(reference)}
    return results
