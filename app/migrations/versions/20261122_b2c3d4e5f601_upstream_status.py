"""upstream_status(site, at): the one definition of a site's upstream status

It is derived, not stored, because contracts start and end with the clock; the same function serves the
`upstreamStatus` field and the `sites(upstreamStatus:)` filter. A plain SQL function, so PostgreSQL can
inline it.

Revision ID: b2c3d4e5f601
Revises: a1b2c3d4e5f6
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b2c3d4e5f601"
down_revision: str | None = "a1b2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION upstream_status(p_site uuid, p_at timestamptz) RETURNS text
        LANGUAGE sql STABLE AS $$
          WITH upstream AS (
            SELECT u.id FROM upstream_site u
            JOIN supply_point sp ON sp.grid_identifier = u.grid_identifier
            WHERE sp.site_id = p_site
          ), ranked AS (
            SELECT CASE
              WHEN c.end_at IS NOT NULL AND c.end_at <= p_at THEN 1
              WHEN NOT c.agreed THEN 2
              WHEN c.start_at > p_at THEN 3
              ELSE 4
            END AS rank
            FROM contract c WHERE c.upstream_site_id IN (SELECT id FROM upstream)
          )
          SELECT CASE
            WHEN NOT EXISTS (SELECT 1 FROM upstream) THEN 'no_upstream_registered'
            WHEN NOT EXISTS (SELECT 1 FROM ranked) THEN 'no_contract'
            ELSE (SELECT CASE max(rank)
                           WHEN 4 THEN 'contract_active'
                           WHEN 3 THEN 'contract_pending'
                           WHEN 2 THEN 'contract_needs_agreement'
                           ELSE 'contract_inactive' END
                  FROM ranked)
          END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION upstream_status(uuid, timestamptz)")
