"""Text typed or imported by users has no length limit (PostgreSQL enforced the old ones).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

WIDENED = {
    'documents': {'name': 255, 'round': 32, 'district': 128, 'respondent_group': 128, 'date': 32,
                  'imported_by': 128},
    'segments': {'speaker': 255, 'timestamp': 32},
    'codes': {'label_da': 255, 'label_en': 255},
    'codebook_versions': {'name': 255, 'created_by': 128},
    'codings': {'coder': 128},
    'memos': {'author': 128},
    'audit_log': {'actor': 128},
}


def upgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                batch_op.alter_column(column, existing_type=sa.String(length=length), type_=sa.Text())


def downgrade() -> None:
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, length in columns.items():
                batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=length))
