"""Store each document's word count, so listing documents does not read every segment.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('word_count', sa.Integer(), nullable=False, server_default='0'))
    connection = op.get_bind()
    documents = sa.table('documents', sa.column('id', sa.Integer), sa.column('word_count', sa.Integer))
    segments = sa.table('segments', sa.column('document_id', sa.Integer), sa.column('text', sa.Text))
    words: dict[int, int] = {}
    for document_id, text in connection.execute(sa.select(segments.c.document_id, segments.c.text)):
        words[document_id] = words.get(document_id, 0) + len(text.split())
    for document_id, count in words.items():
        connection.execute(documents.update().where(documents.c.id == document_id).values(word_count=count))


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('word_count')
