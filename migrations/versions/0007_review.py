"""review: question max_points, a test's show_correct, oral answer grades (points, comment, grader, time)

Revision ID: 0007_review
Revises: 0006_trust
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_review"
down_revision: str | None = "0006_trust"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_points", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_correct", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("points", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("graded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_answers_graded_by_id_users"), "users", ["graded_by_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_answers_graded_by_id_users"), type_="foreignkey")
        batch_op.drop_column("graded_by_id")
        batch_op.drop_column("graded_at")
        batch_op.drop_column("comment")
        batch_op.drop_column("points")
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_column("show_correct")
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("max_points")
