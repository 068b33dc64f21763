"""All tables, imported here so that `SQLModel.metadata` knows every one of them."""

from web_server.models.attempt import Answer, Attempt, ConsentEvent
from web_server.models.audit import AuditEntry
from web_server.models.base import UTCDateTime, utcnow
from web_server.models.emotion import CaptureHint, CaptureMedia, EmotionSample
from web_server.models.security import LoginThrottle, RevokedToken
from web_server.models.test import EmotionMode, Question, Test, TestKind
from web_server.models.user import Role, User

__all__ = [
    "Answer",
    "Attempt",
    "AuditEntry",
    "ConsentEvent",
    "EmotionMode",
    "CaptureHint",
    "CaptureMedia",
    "EmotionSample",
    "LoginThrottle",
    "Question",
    "RevokedToken",
    "Role",
    "Test",
    "TestKind",
    "User",
    "UTCDateTime",
    "utcnow",
]
