"""add users.email, filling existing rows with a placeholder

Revision ID: 584d4ebb0fa6
Revises: 12277d3c90ff
Create Date: 2026-11-23 09:27:45.729415

"""
import logging
import time

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "584d4ebb0fa6"
down_revision = "12277d3c90ff"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.revision." + revision)

# The backfill updates this many ids per statement, and logs its progress at
# most this often: a big table shows it moving, and no statement runs long.
BATCH_IDS = 50000
PROGRESS_SECONDS = 2.0

# The table as this revision sees it; migrations never import the app's models.
users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String(255)),
)


def placeholder_email():
    """user-<id>@placeholder.invalid: unique per row, and .invalid can never
    be a real address (RFC 2606)."""
    return (
        sa.literal("user-")
        + sa.cast(users.c.id, sa.String)
        + sa.literal("@placeholder.invalid")
    )


def backfill_placeholder_emails():
    """Give every row without an email its placeholder, BATCH_IDS ids per
    UPDATE, inside the database: no row is read into Python."""
    fill = users.update().where(users.c.email.is_(None)).values(email=placeholder_email())
    if op.get_context().as_sql:  # --sql: one statement, no progress to tell
        op.execute(fill)
        return
    bind = op.get_bind()
    total, first, last = bind.execute(
        sa.select(sa.func.count(), sa.func.min(users.c.id), sa.func.max(users.c.id))
    ).one()
    done, logged_at = 0, time.monotonic()
    for start in range(first or 0, (last or -1) + 1, BATCH_IDS):
        done += bind.execute(
            fill.where(users.c.id >= start, users.c.id < start + BATCH_IDS)
        ).rowcount
        if time.monotonic() - logged_at >= PROGRESS_SECONDS:
            log.info("email backfill: %d/%d rows", done, total)
            logged_at = time.monotonic()
    log.info("email backfill: %d/%d rows, done", done, total)


# lint: allow update-in-one-statement — online the backfill updates BATCH_IDS ids per statement; only --sql renders one UPDATE
# lint: allow set-not-null, add-unique, constraint-missing-not-valid — applied as it is before db lint existed; on a new database users is still empty here
def upgrade():
    # Three steps, because existing rows have no email yet: add the column
    # nullable, fill it, then make it NOT NULL and unique.
    op.add_column("users", sa.Column("email", sa.String(length=255), nullable=True))
    backfill_placeholder_emails()
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("email", existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_users_email"), ["email"])


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("uq_users_email"), type_="unique")
        batch_op.drop_column("email")
