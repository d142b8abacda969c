"""CDS Hooks JWTs already accepted (issuer + jti digest, until expiry): replay protection
shared by every worker.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cds_jwt_seen',
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('digest'))
    with op.batch_alter_table('cds_jwt_seen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cds_jwt_seen_expires_at'), ['expires_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cds_jwt_seen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cds_jwt_seen_expires_at'))
    op.drop_table('cds_jwt_seen')
