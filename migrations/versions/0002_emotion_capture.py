"""emotion capture: emotion_sample (predictions) and capture_media (uploaded frames and recordings)

Revision ID: 0002_emotion
Revises: 0001_initial
Create Date: 2026-11-22 05:16:45.014154
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_emotion"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capture_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=400), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["attempts.id"],
            name=op.f("fk_capture_media_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_capture_media_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_media")),
    )
    with op.batch_alter_table("capture_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capture_media_attempt_id"), ["attempt_id"], unique=False)
        batch_op.create_index("ix_capture_media_status_next_try", ["status", "next_try_at"], unique=False)

    op.create_table(
        "emotion_sample",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("modality", sa.String(length=8), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("emotion", sa.String(length=16), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=True),
        sa.Column("faces", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("segment_start_s", sa.Float(), nullable=True),
        sa.Column("segment_end_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["attempts.id"],
            name=op.f("fk_emotion_sample_attempt_id_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["capture_media.id"],
            name=op.f("fk_emotion_sample_media_id_capture_media"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_emotion_sample_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emotion_sample")),
    )
    with op.batch_alter_table("emotion_sample", schema=None) as batch_op:
        batch_op.create_index(
            "ix_emotion_sample_attempt", ["attempt_id", "modality", "status", "offset_ms"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_emotion_sample_media_id"), ["media_id"], unique=False)
        batch_op.create_index(
            "ix_emotion_sample_question_report",
            ["question_id", "modality", "status", "emotion", "confidence"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("emotion_sample", schema=None) as batch_op:
        batch_op.drop_index("ix_emotion_sample_question_report")
        batch_op.drop_index(batch_op.f("ix_emotion_sample_media_id"))
        batch_op.drop_index("ix_emotion_sample_attempt")

    op.drop_table("emotion_sample")
    with op.batch_alter_table("capture_media", schema=None) as batch_op:
        batch_op.drop_index("ix_capture_media_status_next_try")
        batch_op.drop_index(batch_op.f("ix_capture_media_attempt_id"))

    op.drop_table("capture_media")
