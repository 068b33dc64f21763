"""All tables, imported here so that `SQLModel.metadata` knows every one of them."""

from web_server.models.attempt import Answer, Attempt
from web_server.models.base import UTCDateTime, utcnow
from web_server.models.emotion import CaptureMedia, EmotionSample
from web_server.models.test import Question, Test, TestKind
from web_server.models.user import Role, User

__all__ = [
    "Answer",
    "Attempt",
    "CaptureMedia",
    "EmotionSample",
    "Question",
    "Role",
    "Test",
    "TestKind",
    "User",
    "UTCDateTime",
    "utcnow",
]
