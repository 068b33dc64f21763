"""attempt consent: whether the student allowed the camera and the microphone (null: not told)

Revision ID: 0003_consent
Revises: 0002_emotion
Create Date: 2026-11-22 06:25:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_consent"
down_revision: str | None = "0002_emotion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("camera", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("microphone", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_column("microphone")
        batch_op.drop_column("camera")
