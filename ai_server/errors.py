"""Domain errors of the AI server; one handler in ``main.py`` maps them to 4xx/5xx ``ErrorBody`` JSON
(``{"detail": "<sentence>", "errors": []}``, ``ai_server/schemas.py``)."""


class AIError(Exception):
    """Base class: ``status_code`` is the HTTP status, ``str(self)`` the message for a person."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PayloadTooLarge(AIError):
    status_code = 413


class UnsupportedMedia(AIError):
    status_code = 415


class InvalidInput(AIError):
    status_code = 422


class NotReady(AIError):
    status_code = 503
