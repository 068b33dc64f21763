"""Settings: the one place where configuration is read (environment variables and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from web_server.core.secret_key import check_key


def normalise_database_url(url: str) -> str:
    """Use the psycopg (v3) driver for PostgreSQL URLs given without a driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # --- general -------------------------------------------------------------------------------------
    ENVIRONMENT: str = "development"  # anything but "development" requires SECRET_KEY to be set
    DATA_DIR: Path = Path("data")  # the generated signing key (`secret_key`) when SECRET_KEY is empty
    DATABASE_URL: str = "sqlite:///./data/fasel.db"
    AI_SERVER_URL: str = "http://127.0.0.1:8001"
    FRONTEND_DIST: Path = Path("frontend/dist")
    MEDIA_DIR: Path = Path("data/media")
    CORS_ORIGINS: Annotated[list[str], NoDecode] = ["http://localhost:5173", "http://127.0.0.1:5173"]

    # --- auth ----------------------------------------------------------------------------------------
    SECRET_KEY: str = ""  # empty: a random key generated on first start, kept in DATA_DIR/secret_key
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=8 * 60, ge=1)
    FIRST_ADMIN_USERNAME: str = "admin"
    FIRST_ADMIN_PASSWORD: str = ""  # empty: prestart generates one and prints it once
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)  # failed logins per username + IP ...
    LOGIN_WINDOW_SECONDS: int = Field(default=300, ge=1)  # ... within this window -> 429
    LOGIN_ADDRESS_MAX_FAILURES: int = Field(default=30, ge=1)  # per address, any username, per window
    LOGIN_ACCOUNT_MAX_DELAY_SECONDS: int = Field(default=60, ge=1)  # longest wait per account (any address)
    # proxies whose X-Forwarded-For / X-Forwarded-Proto are believed ("*": any; empty: none)
    FORWARDED_ALLOW_IPS: Annotated[list[str], NoDecode] = []
    # Argon2id cost. Lower them only for tests; hashes keep their own parameters, so changing
    # these later does not invalidate stored passwords.
    PASSWORD_HASH_TIME_COST: int = Field(default=3, ge=1)
    PASSWORD_HASH_MEMORY_KIB: int = Field(default=65536, ge=8)

    # --- upload limits (bytes) ---------------------------------------------------------------------
    MAX_IMAGE_BYTES: int = Field(default=2 * 1024 * 1024, ge=1)
    MAX_AUDIO_BYTES: int = Field(default=20 * 1024 * 1024, ge=1)
    MAX_CSV_BYTES: int = Field(default=1024 * 1024, ge=1)
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)  # any other request body (JSON, login form)

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
    RETRY_POLL_S: float = Field(default=0.5, gt=0)  # how often an idle analysis worker looks for due media
    MEDIA_SWEEP_INTERVAL_S: float = Field(default=3600.0, gt=0)  # retention and orphan-file sweep
    FUSION_FACE_WEIGHT: float = Field(default=0.5, ge=0)
    FUSION_VOICE_WEIGHT: float = Field(default=0.5, ge=0)
    CHART_BUCKET_SECONDS: int = Field(default=10, ge=1)  # bar chart and fusion window
    RETRY_QUEUE_PER_ATTEMPT: int = Field(default=40, ge=0)  # one attempt's share of the retry queue
    FRAME_MIN_INTERVAL_S: float = Field(default=1.0, ge=0)  # at most one frame per attempt this often...
    FRAME_BURST: int = Field(default=3, ge=1)  # ... after a burst of this many (network jitter); then 429

    # --- analysis pipeline (web_server/capture/: uploads are queued, workers analyse them in batches) ----
    ANALYSIS_WORKERS: int = Field(default=1, ge=0)  # per web process (0: python -m web_server.worker)
    ANALYSIS_BATCH_MAX: int = Field(default=32, ge=1)  # frames per request to the AI server's batch endpoint
    ANALYSIS_VOICE_CONCURRENCY: int = Field(default=2, ge=1)  # recordings one worker analyses at once
    ANALYSIS_BATCH_WAIT_S: float = Field(default=0.05, ge=0)  # woken by an upload, wait this long for more
    ANALYSIS_LAG_WARN_S: float = Field(default=20.0, gt=0)  # queue older: uploads say "delayed"
    FACE_HINT_REFRESH: int = Field(default=10, ge=1)  # frames per attempt between whole-frame face searches
    UPLOADS_IN_FLIGHT_MAX: int = Field(default=32, ge=1)  # per web process; beyond, frames 503 at once
    # database connections per process: uploads and reads take one each for a few ms, each worker loop up
    # to two; beyond pool + overflow a request waits at most DB_POOL_TIMEOUT_S, then 503 (never 30 s)
    DB_POOL_SIZE: int = Field(default=10, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    DB_POOL_TIMEOUT_S: float = Field(default=5.0, gt=0)

    # --- lawful use (README "Lawful-use modes"; docs/privacy.md) ----------------------------------------
    # off: nothing analysed | self: students see their own emotions only | aggregate: teachers also see
    # class-level distributions of at least MIN_GROUP_SIZE students | individual: teachers see each student
    EMOTION_ANALYSIS: Literal["off", "self", "aggregate", "individual"] = "self"
    MIN_GROUP_SIZE: int = Field(default=5, ge=1)

    @field_validator("DATABASE_URL")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        return normalise_database_url(value.strip())

    @field_validator("CORS_ORIGINS", "FORWARDED_ALLOW_IPS", mode="before")
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
    def _check_secret_key(self) -> Settings:
        if self.SECRET_KEY:
            check_key(self.SECRET_KEY)
        elif self.ENVIRONMENT != "development":
            raise ValueError(
                f"SECRET_KEY must be set to a private random value when ENVIRONMENT={self.ENVIRONMENT}, "
                "shared by every web server process (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def secret_key_file(self) -> Path:
        return self.DATA_DIR / "secret_key"

    def pool_options(self) -> dict:
        """The requests' connection pool of one web process (PostgreSQL)."""
        if self.is_sqlite:
            return {}
        return {
            "pool_size": self.DB_POOL_SIZE,
            "max_overflow": self.DB_MAX_OVERFLOW,
            "pool_timeout": self.DB_POOL_TIMEOUT_S,
        }

    def worker_pool_options(self, loops: int) -> dict:
        """The analysis workers' own pool (PostgreSQL): two connections per loop (frames and recordings)."""
        if self.is_sqlite:
            return {}
        return {"pool_size": 2 * max(1, loops), "max_overflow": 2, "pool_timeout": 30.0}

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
