"""add users.role, an enum defaulting to user

Revision ID: 2106bb02c0f0
Revises: 584d4ebb0fa6
Create Date: 2026-11-23 09:27:46.412775

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "2106bb02c0f0"
down_revision = "584d4ebb0fa6"
branch_labels = None
depends_on = None

ROLES = ("super_user", "admin", "user")


def role_type():
    """A native enum on PostgreSQL (the type user_role) and MySQL; VARCHAR on
    SQLite, where the CHECK constraint below limits the values."""
    return sa.Enum(*ROLES, name="user_role")


def upgrade():
    bind = op.get_bind()
    # PostgreSQL needs the type before a column can use it; elsewhere a no-op.
    role_type().create(bind, checkfirst=False)
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("role", role_type(), server_default="user", nullable=False)
        )
        if not bind.dialect.supports_native_enum:
            batch_op.create_check_constraint(
                op.f("ck_users_user_role"), sa.column("role").in_(ROLES)
            )


def downgrade():
    bind = op.get_bind()
    with op.batch_alter_table("users") as batch_op:
        if not bind.dialect.supports_native_enum:
            # SQLite copies the table to drop a column; a CHECK constraint
            # that names the column must be dropped first.
            batch_op.drop_constraint(op.f("ck_users_user_role"), type_="check")
        batch_op.drop_column("role")
    # On PostgreSQL the type outlives the column: drop it, so that the next
    # upgrade can create it again.
    role_type().drop(bind, checkfirst=False)
