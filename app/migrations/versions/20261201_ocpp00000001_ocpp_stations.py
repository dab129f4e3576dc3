"""ocpp stations on charging poles

Revision ID: ocpp00000001
Revises: harden0001
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ocpp00000001"
down_revision: str | None = "harden0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ocpp_station",
        sa.Column("device_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("station_id", sa.Text(), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("fallback_current_a", sa.Float(), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("protocol", sa.String(), nullable=True),
        sa.Column("connector_status", sa.String(), nullable=True),
        sa.Column("vendor", sa.String(), nullable=True),
        sa.Column("model", sa.String(), nullable=True),
        sa.Column("firmware_version", sa.String(), nullable=True),
        sa.Column("transaction_id", sa.String(), nullable=True),
        sa.Column("phase_rotation", sa.String(), nullable=True),
        sa.Column("phase_rotation_issue", sa.String(), nullable=True),
        sa.Column("control_status", sa.String(), nullable=False),
        sa.Column("control_message", sa.String(), nullable=True),
        sa.Column("control_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_profile_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("device_id"),
        sa.UniqueConstraint("station_id"),
    )
    op.create_index(op.f("ix_ocpp_station_account_id"), "ocpp_station", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ocpp_station_account_id"), table_name="ocpp_station")
    op.drop_table("ocpp_station")
