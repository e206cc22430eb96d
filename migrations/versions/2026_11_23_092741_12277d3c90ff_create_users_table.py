"""create users table

Revision ID: 12277d3c90ff
Revises:
Create Date: 2026-11-23 09:27:41.187703

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "12277d3c90ff"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )


def downgrade():
    op.drop_table("users")
