"""The memo draft: syntheses per guide point x respondent group (x district), quotes marked
"til notatet", and the documents a coder has finished (for agreement).

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'syntheses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_id', sa.String(length=64), nullable=False),
        sa.Column('respondent_group', sa.Text(), nullable=False),
        sa.Column('district', sa.Text(), nullable=False, server_default=''),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['code_id'], ['codes.id'], name='fk_syntheses_code_id_codes',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_syntheses'),
        sa.UniqueConstraint('code_id', 'respondent_group', 'district', name='uq_syntheses_cell'),
    )
    op.create_table(
        'memo_quotes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('segment_id', sa.Integer(), nullable=False),
        sa.Column('code_id', sa.String(length=64), nullable=False),
        sa.Column('marked_by', sa.Text(), nullable=False),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['segment_id'], ['segments.id'], name='fk_memo_quotes_segment_id_segments',
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['code_id'], ['codes.id'], name='fk_memo_quotes_code_id_codes',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_memo_quotes'),
        sa.UniqueConstraint('segment_id', 'code_id', name='uq_memo_quotes_segment_code'),
    )
    op.create_table(
        'finished_documents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('coder', sa.Text(), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name='fk_finished_documents_document_id_documents', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_finished_documents'),
        sa.UniqueConstraint('document_id', 'coder', name='uq_finished_documents_document_coder'),
    )


def downgrade() -> None:
    op.drop_table('finished_documents')
    op.drop_table('memo_quotes')
    op.drop_table('syntheses')
