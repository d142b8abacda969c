"""Token scopes and expiry; audit rows with the client address, the acting user named by
the caller (CDS ``userId``) and the patients a list showed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # tokens made before scopes existed keep what they could do: read and write
    op.add_column('api_tokens', sa.Column('scopes', sa.String(length=40), nullable=False,
                                          server_default='read write'))
    op.add_column('api_tokens', sa.Column('expires_at', sa.DateTime(timezone=True),
                                          nullable=True))
    op.add_column('audit_log', sa.Column('client', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('user_ref', sa.String(length=100), nullable=True))
    op.add_column('audit_log', sa.Column('patients', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('patients')
        batch.drop_column('user_ref')
        batch.drop_column('client')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('expires_at')
        batch.drop_column('scopes')
