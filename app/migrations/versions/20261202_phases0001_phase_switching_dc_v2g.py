"""phase switching, DC charging poles and bidirectional charging

Revision ID: phases0001
Revises: ocpp00000001
Create Date: 2026-12-02 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "phases0001"
down_revision: str | None = "ocpp00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEVICE_COLUMNS = (
    ("supports_phase_switching", sa.Boolean()),
    ("bidirectional", sa.Boolean()),
    ("maximum_power", sa.Float()),
    ("conversion_efficiency", sa.Float()),
    ("minimum_power", sa.Float()),
)
SESSION_COLUMNS = (
    ("min_phase_count", sa.Integer()),
    ("car_battery_capacity_wh", sa.Float()),
    ("min_soc_percent", sa.Float()),
    ("max_discharge_power_w", sa.Float()),
    ("active_phase_count", sa.Integer()),
    ("phase_switched_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, kind in DEVICE_COLUMNS:
        op.add_column("device", sa.Column(name, kind, nullable=True))
    for name, kind in SESSION_COLUMNS:
        op.add_column("charging_session", sa.Column(name, kind, nullable=True))
    op.add_column(
        "charging_session", sa.Column("allow_discharge", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("charging_session", "allow_discharge")
    for name, _ in reversed(SESSION_COLUMNS):
        op.drop_column("charging_session", name)
    for name, _ in reversed(DEVICE_COLUMNS):
        op.drop_column("device", name)
