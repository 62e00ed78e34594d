"""Every code has a stored REFI-QDA GUID, so exports keep it and re-imports match by it.

Codes without one get the uuid5 value focusqa's exports derived from the code id before,
so files exported earlier still match.

Revision ID: 0006
Revises: 0005
"""
import uuid

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# focusqa.export.refi.GUID_NAMESPACE, copied: a migration must not change when the package does
GUID_NAMESPACE = uuid.UUID("6f1c5d2e-9a47-5b1e-8c3d-0f0c05a0a11d")


def upgrade() -> None:
    codes = sa.table('codes', sa.column('id', sa.String), sa.column('guid', sa.String))
    conn = op.get_bind()
    for (code_id,) in conn.execute(sa.select(codes.c.id).where(codes.c.guid.is_(None))).all():
        guid = str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(("code", code_id))))
        conn.execute(codes.update().where(codes.c.id == code_id).values(guid=guid))


def downgrade() -> None:
    """The GUIDs stay: they are the same values exports derived before."""
