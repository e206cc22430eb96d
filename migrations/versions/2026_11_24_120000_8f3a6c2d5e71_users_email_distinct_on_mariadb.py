"""users.email compares exactly on MariaDB/MySQL: utf8mb4_bin

Revision ID: 8f3a6c2d5e71
Revises: 1d419a1b9cc6
Create Date: 2026-11-24 12:00:00.000000

The server's default collation (utf8mb4_general_ci, or uca1400_ai_ci on
newer MariaDB) ignores accents and case, so its unique index refused
jose@example.com once josé@example.com existed. utf8mb4_bin compares the
stored bytes, as PostgreSQL and SQLite do: distinct addresses are distinct.
Case does not split an address in two: the app lowercases every email
before it stores it. Other databases are left as they are.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "8f3a6c2d5e71"
down_revision = "1d419a1b9cc6"
branch_labels = None
depends_on = None

COLUMN = "email VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {} NOT NULL"


def upgrade():
    if op.get_bind().dialect.name == "mysql":
        op.execute("ALTER TABLE users MODIFY " + COLUMN.format("utf8mb4_bin"))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    collation = bind.exec_driver_sql(
        "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
        "WHERE SCHEMA_NAME = DATABASE()").scalar()
    # Addresses that the database's own collation takes for one (josé and
    # jose) would break the unique index half way: refuse before any change.
    clashes = bind.exec_driver_sql(
        "SELECT GROUP_CONCAT(email ORDER BY email SEPARATOR ', ') FROM users "
        "GROUP BY email COLLATE {} HAVING COUNT(*) > 1 LIMIT 3".format(collation)).scalars().all()
    if clashes:
        raise RuntimeError(
            "users.email cannot go back to {}, which takes these addresses for one: "
            "{}; change or delete one of each first".format(collation, "; ".join(clashes)))
    op.execute("ALTER TABLE users MODIFY " + COLUMN.format(collation))
