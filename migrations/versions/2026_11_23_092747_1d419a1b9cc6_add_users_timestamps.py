"""add users.created_at and users.updated_at

Revision ID: 1d419a1b9cc6
Revises: 2106bb02c0f0
Create Date: 2026-11-23 09:27:47.166035

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1d419a1b9cc6"
down_revision = "2106bb02c0f0"
branch_labels = None
depends_on = None


def timestamp_column(name):
    # Existing rows get the time of the upgrade. SQLite cannot ADD a column
    # whose default is an expression; batch mode copies the table there.
    return sa.Column(
        name, sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False
    )


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(timestamp_column("created_at"))
        batch_op.add_column(timestamp_column("updated_at"))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("created_at")
