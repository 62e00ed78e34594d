"""Anchor examples per code (Mayring's and Kuckartz's definition + anchor example + rule).

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('examples', sa.JSON(), nullable=True, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('codes', schema=None) as batch_op:
        batch_op.drop_column('examples')
