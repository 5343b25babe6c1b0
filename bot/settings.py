"""One typed settings object, read once at start-up from the environment (or ``.env``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.catalog import PROJECT_DIR
from bot.errors import ConfigurationError
from bot.languages import LANGUAGES


class Settings(BaseSettings):
    """Every knob of the gateway and the process runner. Environment names are in the field aliases."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", alias="SPORTELLO_HOST")
    port: int = Field(8080, alias="SPORTELLO_PORT", ge=1, le=65535)
    rasa_port: int = Field(5005, alias="SPORTELLO_RASA_PORT", ge=1, le=65535)
    actions_port: int = Field(5055, alias="SPORTELLO_ACTIONS_PORT", ge=1, le=65535)
    rasa_url: str = Field("", alias="SPORTELLO_RASA_URL")
    rasa_timeout: float = Field(30.0, alias="SPORTELLO_RASA_TIMEOUT", gt=0)
    database_url: str = Field("", alias="DATABASE_URL")
    data_dir: Path = Field(PROJECT_DIR / "var", alias="SPORTELLO_DATA_DIR")
    model_path: Path | None = Field(None, alias="SPORTELLO_MODEL")
    default_language: str = Field("it", alias="SPORTELLO_DEFAULT_LANGUAGE")
    max_text_chars: int = Field(4000, alias="SPORTELLO_MAX_TEXT_CHARS", gt=0)
    project_dir: Path = Field(PROJECT_DIR, alias="SPORTELLO_PROJECT_DIR")

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    def as_environment(self) -> dict[str, str]:
        """These settings as environment variables, so child processes read the same values."""
        env = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is not None and value != "" and field.alias:
                env[field.alias] = str(value)
        return env

    @property
    def engine_url(self) -> str:
        return self.rasa_url or f"http://127.0.0.1:{self.rasa_port}"

    @property
    def gateway_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sportello.db'}"

    @property
    def tracker_database(self) -> Path:
        return self.data_dir / "rasa_tracker.db"


def load_settings(**overrides: object) -> Settings:
    """Read settings once; a bad value stops the program with a message naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {details}") from exc
