"""AI server settings (pydantic-settings, environment prefix ``AI_``): the one place for configuration."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

MODELS_DIR = Path(__file__).resolve().parent / "models"


class Settings(BaseSettings):
    """Every knob of the AI server; override with e.g. ``AI_FER_MODEL_PATH=/x/fer.keras``."""

    model_config = SettingsConfigDict(env_prefix="AI_", env_file=".env", extra="ignore")

    fer_model_path: Path = MODELS_DIR / "fer.keras"
    ser_model_path: Path = MODELS_DIR / "ser.keras"
    ser_functionals: bool = True  # fuse the openSMILE functionals head into the SER overall (ser.json)
    ser_functionals_timeout_s: float = 20.0  # an answer waits this long for them, then the CNNs answer alone

    max_image_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    max_audio_bytes: int = 25 * 1024 * 1024
    max_audio_seconds: float = 120.0

    batch_max_size: int = 64
    batch_max_images: int = 128  # frames per POST /v1/face/batch
    max_batch_bytes: int = 64 * 1024 * 1024  # body of one POST /v1/face/batch
    batch_max_wait_ms: float = 3.0
    thread_pool_size: int = 4
    opencv_threads: int = 0

    detect_max_side: int = 240
    detect_min_face_fraction: float = 0.15
    detect_scale_factor: float = 1.08
    detect_min_neighbors: int = 3
    detect_verify: bool = True
    detect_verify_min_neighbors: int = 6
    face_margin: float = 0.05


@lru_cache
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
