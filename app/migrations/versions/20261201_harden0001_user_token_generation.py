"""user token generation: a password change invalidates the tokens issued before it

Revision ID: harden0001
Revises: d4e5f6070803
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "harden0001"
down_revision: str | None = "d4e5f6070803"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    op.drop_column("app_user", "token_generation")
