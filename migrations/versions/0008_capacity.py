"""capacity: queued frames wait in capture_media.data; the queue index per modality; capture_hint (last face box
per attempt for the AI server's region search)

Revision ID: 0008_capacity
Revises: 0007_review
Create Date: 2026-12-02 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_capacity"
down_revision: str | None = "0007_review"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("capture_media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=True))
        batch_op.drop_index("ix_capture_media_status_next_try")
        batch_op.create_index("ix_capture_media_queue", ["status", "modality", "next_try_at"], unique=False)
    op.create_table(
        "capture_hint",
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("box", sa.String(length=64), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["attempts.id"], name=op.f("fk_capture_hint_attempt_id_attempts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_capture_hint")),
    )


def downgrade() -> None:
    op.drop_table("capture_hint")
    with op.batch_alter_table("capture_media", schema=None) as batch_op:
        batch_op.drop_index("ix_capture_media_queue")
        batch_op.create_index("ix_capture_media_status_next_try", ["status", "next_try_at"], unique=False)
        batch_op.drop_column("data")
