"""One typed settings object, read once at start-up from the environment (or ``.env``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import ConfigurationError
from bot.core.languages import LANGUAGES

# What only the gateway may know: Rasa and the action server get none of these (least privilege):
# the platforms' tokens and secrets (every TELEGRAM_ and WHATSAPP_ setting), the database, the staff group.
GATEWAY_ONLY_PREFIXES = ("TELEGRAM_", "WHATSAPP_")
GATEWAY_ONLY_VARIABLES = frozenset(
    {
        "DATABASE_URL",
        "STAFF_TELEGRAM_CHAT_ID",
        "SPORTELLO_RASA_TOKEN",
        "SPORTELLO_REDIS_URL",
        "LIBRETRANSLATE_URL",
        "LIBRETRANSLATE_API_KEY",
    }
)


def gateway_only(variable: str) -> bool:
    return variable in GATEWAY_ONLY_VARIABLES or variable.startswith(GATEWAY_ONLY_PREFIXES)


# The checkout this code runs from: the default home of topics.yml, knowledge/, locales/ and var/.
PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


class Settings(BaseSettings):
    """Every knob of the gateway and the process runner. Environment names are in the field aliases."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    host: str = Field("127.0.0.1", alias="SPORTELLO_HOST")
    port: int = Field(8080, alias="SPORTELLO_PORT", ge=1, le=65535)
    rasa_port: int = Field(5005, alias="SPORTELLO_RASA_PORT", ge=1, le=65535)
    actions_port: int = Field(5055, alias="SPORTELLO_ACTIONS_PORT", ge=1, le=65535)
    rasa_url: str = Field("", alias="SPORTELLO_RASA_URL")
    rasa_timeout: float = Field(30.0, alias="SPORTELLO_RASA_TIMEOUT", gt=0)
    # Rasa's HTTP API (/model/parse reads a ticket's few words); `python -m bot run` makes one per start
    rasa_token: str = Field("", alias="SPORTELLO_RASA_TOKEN")
    database_url: str = Field("", alias="DATABASE_URL")
    data_dir: Path = Field(PROJECT_DIR / "var", alias="SPORTELLO_DATA_DIR")
    model_path: Path | None = Field(None, alias="SPORTELLO_MODEL")
    default_language: str = Field("it", alias="SPORTELLO_DEFAULT_LANGUAGE")
    max_text_chars: int = Field(4000, alias="SPORTELLO_MAX_TEXT_CHARS", gt=0)
    # Photos and PDFs users send for their tickets: the largest kept (MB); bigger ones are refused politely
    max_attachment_mb: int = Field(10, alias="SPORTELLO_MAX_ATTACHMENT_MB", ge=1, le=20)
    project_dir: Path = Field(PROJECT_DIR, alias="SPORTELLO_PROJECT_DIR")
    # Machine translation for mediators (a self-hosted LibreTranslate); empty: off, nothing is sent
    libretranslate_url: str = Field("", alias="LIBRETRANSLATE_URL")
    libretranslate_api_key: str = Field("", alias="LIBRETRANSLATE_API_KEY")
    translation_timeout: float = Field(10.0, alias="SPORTELLO_TRANSLATION_TIMEOUT", gt=0)
    # staff's answers; default: knowledge/ of the project (tests point it at a copy they edit)
    knowledge_path: Path | None = Field(None, alias="SPORTELLO_KNOWLEDGE_DIR")

    # Web chat limits: messages a minute per session and per client address (token buckets).
    chat_per_minute: int = Field(20, alias="SPORTELLO_CHAT_PER_MINUTE", ge=1)
    chat_per_minute_per_address: int = Field(60, alias="SPORTELLO_CHAT_PER_MINUTE_PER_ADDRESS", ge=1)
    # Telegram and WhatsApp: messages a minute per user; beyond, not stored (one notice a minute)
    messages_per_minute: int = Field(20, alias="SPORTELLO_MESSAGES_PER_MINUTE", ge=1)
    # Tickets: how many a user may have open at once (more is a flood, or a person who needs one answer)
    max_open_tickets: int = Field(3, alias="SPORTELLO_MAX_OPEN_TICKETS", ge=1)
    # ... and open in 24 hours; a city with more new tickets than this in an hour alerts the staff group
    max_tickets_per_day: int = Field(5, alias="SPORTELLO_MAX_TICKETS_PER_DAY", ge=1)
    city_burst_per_hour: int = Field(10, alias="SPORTELLO_CITY_BURST_PER_HOUR", ge=1)
    # Where the limits count when several gateways run (redis://host:6379/0); unset: each in memory
    redis_url: str = Field("", alias="SPORTELLO_REDIS_URL")
    redis_prefix: str = Field("sportello:limits:", alias="SPORTELLO_REDIS_PREFIX")  # one per deployment
    # Several Rasa servers (on SPORTELLO_RASA_PORT, +1, +2, ...) share Rasa's tracker on PostgreSQL
    # (SPORTELLO_TRACKER_URL, postgresql://...) and its lock store on the Redis of SPORTELLO_REDIS_URL.
    # One server (the default) keeps its tracker in SQLite in the data folder.
    rasa_servers: int = Field(1, alias="SPORTELLO_RASA_SERVERS", ge=1, le=8)
    tracker_url: str = Field("", alias="SPORTELLO_TRACKER_URL")

    # Retention: how long each store keeps what users wrote (the gateway expires it every few hours).
    retention_messages_days: int = Field(30, alias="SPORTELLO_RETENTION_MESSAGES_DAYS", ge=2)
    retention_tickets_days: int = Field(180, alias="SPORTELLO_RETENTION_TICKETS_DAYS", ge=1)
    retention_audit_days: int = Field(730, alias="SPORTELLO_RETENTION_AUDIT_DAYS", ge=30)
    # messages the assistant could not answer, kept (without any user identifier) for staff to review
    retention_missed_days: int = Field(30, alias="SPORTELLO_RETENTION_MISSED_DAYS", ge=1)
    retention_every_hours: float = Field(6.0, alias="SPORTELLO_RETENTION_EVERY_HOURS", gt=0)
    # webhooks' updates stored together, one transaction per batch (off: one per update; benchmarks)
    group_commit: bool = Field(True, alias="SPORTELLO_GROUP_COMMIT")
    # Rasa and the action server run at this lower CPU priority (nice) than the gateway: on a busy
    # machine the platforms' webhooks are acknowledged first, and understanding waits a little
    engine_niceness: int = Field(5, alias="SPORTELLO_ENGINE_NICENESS", ge=0, le=19)
    # The gateway as two processes: this one stores the webhooks' updates and serves HTTP, a second one
    # (the workers: inbox, sender, retention; health on SPORTELLO_WORKERS_PORT, localhost) answers and
    # sends, so a busy worker never delays an acknowledgement (scripts/bench_webhooks.py --compare-intake)
    intake_process: bool = Field(False, alias="SPORTELLO_INTAKE_PROCESS")
    workers_port: int = Field(8081, alias="SPORTELLO_WORKERS_PORT", ge=1, le=65535)
    # whether this gateway process runs the workers (false: an intake that wakes them on workers_port)
    workers: bool = Field(True, alias="SPORTELLO_WORKERS")
    # PostgreSQL: the workers process beside an intake commits without waiting for the disk, so that
    # the intake's commits (the acknowledgements) do not queue behind its flushes (README, "Webhooks")
    workers_async_commit: bool = Field(False, alias="SPORTELLO_WORKERS_ASYNC_COMMIT")

    # Telegram: enabled when the token is set. No webhook URL: long polling (a laptop).
    telegram_bot_token: str = Field("", alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_url: str = Field("", alias="TELEGRAM_WEBHOOK_URL")
    telegram_secret_token: str = Field("", alias="TELEGRAM_SECRET_TOKEN")
    telegram_api_base_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL")
    # Where new and urgent tickets are announced (a staff Telegram group), and the dashboard's address.
    staff_telegram_chat_id: str = Field("", alias="STAFF_TELEGRAM_CHAT_ID")
    dashboard_url: str = Field("http://127.0.0.1:8080", alias="SPORTELLO_DASHBOARD_URL")
    # WhatsApp Cloud API: enabled when the access token and phone number id are set.
    whatsapp_access_token: str = Field("", alias="WHATSAPP_ACCESS_TOKEN")
    whatsapp_phone_number_id: str = Field("", alias="WHATSAPP_PHONE_NUMBER_ID")
    whatsapp_app_secret: str = Field("", alias="WHATSAPP_APP_SECRET")
    whatsapp_verify_token: str = Field("", alias="WHATSAPP_VERIFY_TOKEN")
    whatsapp_api_base_url: str = Field("https://graph.facebook.com/v21.0", alias="WHATSAPP_API_BASE_URL")
    # The approved template sent outside the 24-hour window: name, and its language code per language.
    whatsapp_template_name: str = Field("sportello_reply_waiting", alias="WHATSAPP_TEMPLATE_NAME")
    whatsapp_template_languages: str = Field(
        "it=it,en=en,fr=fr,ar=ar,es=es,uk=uk,ru=ru,ro=ro,sq=sq,bn=bn,ur=ur,zh=zh_CN",
        alias="WHATSAPP_TEMPLATE_LANGUAGES",
    )

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    def as_environment(self, secrets: bool = True) -> dict[str, str]:
        """These settings as environment variables, so child processes read the same values;
        ``secrets=False`` leaves out what only the gateway may know (``gateway_only``)."""
        env = {}
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if value is not None and value != "" and field.alias:
                env[field.alias] = str(value)
        return env if secrets else {k: v for k, v in env.items() if not gateway_only(k)}

    @model_validator(mode="after")
    def _channels_complete(self) -> Settings:
        if self.whatsapp_access_token and not (
            self.whatsapp_phone_number_id and self.whatsapp_app_secret and self.whatsapp_verify_token
        ):
            raise ValueError(
                "WHATSAPP_ACCESS_TOKEN is set: WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and "
                "WHATSAPP_VERIFY_TOKEN are needed too"
            )
        if self.telegram_webhook_url and not self.telegram_secret_token:
            raise ValueError("TELEGRAM_WEBHOOK_URL is set: TELEGRAM_SECRET_TOKEN is needed too")
        if self.libretranslate_url and not self.libretranslate_url.startswith(("http://", "https://")):
            raise ValueError("LIBRETRANSLATE_URL must be the http(s):// address of the city's LibreTranslate")
        if self.tracker_url and not self.tracker_url.startswith("postgresql"):
            raise ValueError("SPORTELLO_TRACKER_URL must be a postgresql:// address (unset: SQLite)")
        return self

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def translation_enabled(self) -> bool:
        return bool(self.libretranslate_url)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.whatsapp_access_token)

    def whatsapp_template_language(self, language: str) -> str:
        pairs = dict(p.split("=", 1) for p in self.whatsapp_template_languages.split(",") if "=" in p)
        return pairs.get(language, pairs.get("en", "en"))

    @property
    def engine_url(self) -> str:
        return self.engine_urls[0]

    @property
    def engine_urls(self) -> list[str]:
        """Every Rasa server the gateway spreads its users over."""
        if self.rasa_url:
            return [self.rasa_url]
        return [f"http://127.0.0.1:{self.rasa_port + index}" for index in range(self.rasa_servers)]

    @property
    def gateway_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'sportello.db'}"

    @property
    def tracker_database(self) -> Path:
        return self.data_dir / "rasa_tracker.db"

    @property
    def tracker_source(self) -> Path | str:
        """What the gateway's tracker reader opens: the SQLite file, or the PostgreSQL address."""
        return self.tracker_database_url if self.tracker_url else self.tracker_database

    @property
    def tracker_database_url(self) -> str:
        """Rasa's tracker as the gateway reads and erases it (SQLAlchemy 2, psycopg)."""
        if self.tracker_url:
            return "postgresql+psycopg://" + self.tracker_url.split("://", 1)[1]
        return f"sqlite:///{self.tracker_database}"

    @property
    def attachments_dir(self) -> Path:
        """Where the bytes of attachments are kept (private: 0700, random names)."""
        return self.data_dir / "attachments"

    @property
    def max_attachment_bytes(self) -> int:
        return self.max_attachment_mb * 1024 * 1024

    @property
    def knowledge_dir(self) -> Path:
        return self.knowledge_path or self.project_dir / "knowledge"

    @property
    def locales_dir(self) -> Path:
        return self.project_dir / "locales"


def load_settings(**overrides: object) -> Settings:
    """Read settings once; a bad value stops the program with a message naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {details}") from exc
