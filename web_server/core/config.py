"""Settings: the one place where configuration is read (environment variables and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-secret-key-change-me-in-production-0123456789"


def normalise_database_url(url: str) -> str:
    """Use the psycopg (v3) driver for PostgreSQL URLs given without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- general -------------------------------------------------------------------------------------
    ENVIRONMENT: str = "development"  # anything but "development" requires a real SECRET_KEY
    DATABASE_URL: str = "sqlite:///./data/fasel.db"
    AI_SERVER_URL: str = "http://127.0.0.1:8001"
    FRONTEND_DIST: Path = Path("frontend/dist")
    MEDIA_DIR: Path = Path("data/media")
    CORS_ORIGINS: Annotated[list[str], NoDecode] = ["http://localhost:5173", "http://127.0.0.1:5173"]

    # --- auth ----------------------------------------------------------------------------------------
    SECRET_KEY: str = DEV_SECRET_KEY
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=8 * 60, ge=1)
    FIRST_ADMIN_USERNAME: str = "admin"
    FIRST_ADMIN_PASSWORD: str = ""  # empty: prestart generates one and prints it once
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)  # failed logins per username + IP ...
    LOGIN_WINDOW_SECONDS: int = Field(default=300, ge=1)  # ... within this window -> 429
    # Argon2id cost. Lower them only for tests; hashes keep their own parameters, so changing
    # these later does not invalidate stored passwords.
    PASSWORD_HASH_TIME_COST: int = Field(default=3, ge=1)
    PASSWORD_HASH_MEMORY_KIB: int = Field(default=65536, ge=8)

    # --- upload limits (bytes) ---------------------------------------------------------------------
    MAX_IMAGE_BYTES: int = Field(default=2 * 1024 * 1024, ge=1)
    MAX_AUDIO_BYTES: int = Field(default=20 * 1024 * 1024, ge=1)
    MAX_CSV_BYTES: int = Field(default=1024 * 1024, ge=1)

    # --- capture / AI (added by the capture work below this line) ----------------------------------
    AI_TIMEOUT_S: float = Field(default=5.0, gt=0)  # per call to the AI server (read/write/pool)
    AI_CONNECT_TIMEOUT_S: float = Field(default=1.0, gt=0)
    AI_MAX_CONNECTIONS: int = Field(default=64, ge=1)
    AI_BREAKER_S: float = Field(default=5.0, ge=0)  # after a failure, uploads skip the AI for this long
    STORE_RAW_FRAMES: bool = False  # keep analysed webcam frames on disk under MEDIA_DIR
    RECORDING_RETENTION_DAYS: int = Field(default=365, ge=0)  # 0: keep oral recordings forever
    RETRY_QUEUE_MAX: int = Field(default=2000, ge=0)  # pending media waiting for the AI server
    RETRY_MAX_ATTEMPTS: int = Field(default=8, ge=1)  # then the media is marked unanalysed
    RETRY_BACKOFF_S: float = Field(default=5.0, gt=0)  # first retry delay, doubled each time...
    RETRY_BACKOFF_MAX_S: float = Field(default=600.0, gt=0)  # ... up to this
    RETRY_POLL_S: float = Field(default=2.0, gt=0)  # how often the retry worker looks for due media
    MEDIA_SWEEP_INTERVAL_S: float = Field(default=3600.0, gt=0)  # retention and orphan-file sweep
    FUSION_FACE_WEIGHT: float = Field(default=0.5, ge=0)
    FUSION_VOICE_WEIGHT: float = Field(default=0.5, ge=0)
    CHART_BUCKET_SECONDS: int = Field(default=10, ge=1)  # bar chart and fusion window

    @field_validator("DATABASE_URL")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())

    @field_validator("CORS_ORIGINS", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated string or a JSON list."""
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                import json

                return json.loads(value)
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.ENVIRONMENT != "development" and self.SECRET_KEY == DEV_SECRET_KEY:
            raise ValueError(
                f"SECRET_KEY must be set to a private random value when ENVIRONMENT={self.ENVIRONMENT} "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if len(self.SECRET_KEY) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters long")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
