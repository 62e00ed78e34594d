"""Coders are users of the project: a list with a role and an optional password hash.

Everyone who already has a human coding or a memo becomes a coder (role ``coder``, no
password), so existing projects and the demo keep working.

Revision ID: 0008
Revises: 0007
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# focusqa.config.MACHINE_CODER and focusqa.store.reconcile.FINAL_CODER, copied: a migration
# must not change when the package does
NOT_PEOPLE = ('focusqa', 'final')


def upgrade() -> None:
    coders = op.create_table(
        'coders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_coders'),
        sa.UniqueConstraint('name', name='uq_coders_name'),
    )
    codings = sa.table('codings', sa.column('coder', sa.Text), sa.column('origin', sa.String))
    memos = sa.table('memos', sa.column('author', sa.Text))
    conn = op.get_bind()
    names = set(conn.execute(sa.select(codings.c.coder).where(codings.c.origin == 'human').distinct()).scalars())
    names |= set(conn.execute(sa.select(memos.c.author).distinct()).scalars())
    now = datetime.now(timezone.utc)
    rows = [{'name': n, 'role': 'coder', 'password_hash': None, 'created_at': now}
            for n in sorted(names) if n and n.strip() and n not in NOT_PEOPLE]
    if rows:
        op.bulk_insert(coders, rows)


def downgrade() -> None:
    op.drop_table('coders')
