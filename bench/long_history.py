"""A generated chain of revisions in a temporary repository: `db upgrade`
from base (which logs every revision with its checksum), `db upgrade` at
head (which validates every applied revision's checksum), `db validate`,
`db history` and `db current`, against raw alembic on the same versions/
folder; the cost per revision and whether it grows linearly."""
import tempfile

from bench.measure import alembic, alembic_ini, environment, manage, median, project_copy, run

REVISION = '''"""create table t{n:04d}"""
import sqlalchemy as sa
from alembic import op

revision = "r{n:04d}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("t{n:04d}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("t{n:04d}")
'''


# The migration log and its validation cost at most this much over raw
# alembic, upgrading the longest chain from base.
TARGET_RATIO = 1.15


def chain(length):
    """{file name: text} of `length` revisions, each creating one table."""
    return {"r{:04d}.py".format(n): REVISION.format(
                n=n, down=None if n == 1 else "r{:04d}".format(n - 1))
            for n in range(1, length + 1)}


def linear_fit(points):
    """(intercept, slope, worst relative residual) of a least-squares line."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in points)
             / sum((x - mean_x) ** 2 for x, _ in points))
    intercept = mean_y - slope * mean_x
    worst = max(abs(y - (intercept + slope * x)) / y for x, y in points)
    return intercept, slope, worst


def measure(lengths, runs):
    """Upgrade times at each length (medians), the fitted cost per revision,
    and history/current at the longest length."""
    longest = max(lengths)
    upgrades = {}
    with project_copy(versions=chain(longest)) as root:
        for length in lengths:
            ours, reference = [], []
            for _ in range(runs):
                for command, times in ((manage, ours), (alembic, reference)):
                    with tempfile.TemporaryDirectory() as folder:
                        url = "sqlite:///{}/history.db".format(folder)
                        alembic_ini(root, url)
                        args = (command(root, "db", "upgrade", "r{:04d}".format(length))
                                if command is manage
                                else command(root, "upgrade", "r{:04d}".format(length)))
                        times.append(run(args, root, environment(url)).seconds)
            upgrades[length] = {"seconds": median(ours), "alembic": median(reference),
                                "ratio": median(ours) / median(reference)}
        with tempfile.TemporaryDirectory() as folder:
            url = "sqlite:///{}/history.db".format(folder)
            env = environment(url)
            alembic_ini(root, url)
            run(manage(root, "db", "upgrade"), root, env)
            reads = {}
            for label, ours_args, reference_args in (
                    ("db upgrade at head (validates every revision)",
                     manage(root, "db", "upgrade"), alembic(root, "upgrade", "head")),
                    ("db validate (against alembic current)",
                     manage(root, "db", "validate"), alembic(root, "current")),
                    ("db history", manage(root, "db", "history"), alembic(root, "history")),
                    ("db current", manage(root, "db", "current"), alembic(root, "current"))):
                ours = [run(ours_args, root, env).seconds for _ in range(runs)]
                reference = [run(reference_args, root, env).seconds for _ in range(runs)]
                reads[label] = {"seconds": median(ours), "alembic": median(reference),
                                "ratio": median(ours) / median(reference)}
    fits = {}
    for key in ("seconds", "alembic"):
        intercept, slope, worst = linear_fit([(n, u[key]) for n, u in upgrades.items()])
        fits[key] = {"intercept": intercept, "per_revision": slope, "worst_residual": worst}
    return {"lengths": lengths, "upgrades": upgrades, "fits": fits, "reads": reads,
            "longest": longest}
