"""``python -m push_server`` flags and environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from push_server.config import ConfigError, ServerConfig, build_parser, config_from_args
from push_server.main import main, make_backend
from tests.helpers.nostr_factories import secret

KEY = secret("push server")


def _config(argv: list[str], env: dict[str, str] | None = None) -> ServerConfig:
    env = env or {}
    return config_from_args(build_parser(env).parse_args(argv), env)


def test_flags(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY.secret_hex() + "\n")
    config = _config(
        [
            "--key-file", str(key_file),
            "--relay", "ws://127.0.0.1:1", "--relay", "WS://127.0.0.1:1", "--relay", "wss://b.example",
            "--announce-relay", "wss://c.example",
            "--log-file", str(tmp_path / "log"),
            "--max-age", "60",
        ]
    )  # fmt: skip
    assert config.secret.public_key() == KEY.public_key()
    assert config.relays == ("ws://127.0.0.1:1", "wss://b.example")
    assert config.announce_relays == ("wss://c.example",)
    assert config.backend == "file"
    assert config.max_age == 60
    assert KEY.secret_hex() not in repr(config)


def test_environment(tmp_path: Path) -> None:
    env = {
        "BURROW_PUSH_KEY": KEY.to_bech32(),
        "BURROW_PUSH_RELAYS": "ws://127.0.0.1:1, wss://b.example",
        "BURROW_PUSH_BACKEND": "webhook",
        "BURROW_PUSH_WEBHOOK_URL": "https://hook.example/push",
        "BURROW_PUSH_WEBHOOK_AUTH": "Bearer t0ken",
        "BURROW_PUSH_MAX_AGE": "90",
        "BURROW_PUSH_STATE_FILE": str(tmp_path / "seen"),
    }
    config = _config(["--webhook-header", "X-Env: test"], env)
    assert config.secret.public_key() == KEY.public_key()
    assert config.relays == ("ws://127.0.0.1:1", "wss://b.example")
    assert config.webhook_headers == (("X-Env", "test"), ("Authorization", "Bearer t0ken"))
    assert config.max_age == 90
    assert config.state_file == tmp_path / "seen"
    assert "t0ken" not in repr(config)
    assert make_backend(config).__class__.__name__ == "WebhookBackend"


def test_flags_win_over_environment(tmp_path: Path) -> None:
    env = {"BURROW_PUSH_KEY": KEY.secret_hex(), "BURROW_PUSH_RELAYS": "wss://env.example"}
    config = _config(["--relay", "wss://flag.example", "--log-file", str(tmp_path / "l")], env)
    assert config.relays == ("wss://flag.example",)


def test_generate_key_creates_a_private_file_once(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "server.key"
    argv = ["--key-file", str(key_file), "--generate-key", "--relay", "wss://a.example"]
    argv += ["--log-file", str(tmp_path / "log")]
    first = _config(argv)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _config(argv).secret.public_key() == first.secret.public_key()


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "no key"),
        (["--key-file", "/nonexistent/key"], {}, "cannot read"),
        ([], {"BURROW_PUSH_KEY": "zz"}, "64 hex"),
        ([], {"BURROW_PUSH_KEY": "nsec1qqqq"}, "64 hex"),
        (["--relay", "ftp://x"], {"BURROW_PUSH_KEY": KEY.secret_hex()}, "relay"),
        ([], {"BURROW_PUSH_KEY": KEY.secret_hex()}, "no inbox relay"),
        (["--relay", "wss://a.example"], {"BURROW_PUSH_KEY": KEY.secret_hex()}, "--log-file"),
        (
            ["--relay", "wss://a.example", "--backend", "webhook"],
            {"BURROW_PUSH_KEY": KEY.secret_hex()},
            "--webhook-url",
        ),
        (
            ["--relay", "wss://a.example", "--log-file", "l", "--webhook-header", "novalue"],
            {"BURROW_PUSH_KEY": KEY.secret_hex()},
            "NAME:VALUE",
        ),
        (
            ["--relay", "wss://a.example", "--log-file", "l", "--max-age", "0"],
            {"BURROW_PUSH_KEY": KEY.secret_hex()},
            "positive",
        ),
    ],
)
def test_bad_configuration(argv: list[str], env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(argv, env)


def test_main_show_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--show-key"], {"BURROW_PUSH_KEY": KEY.secret_hex()}) == 0
    out = capsys.readouterr().out
    assert KEY.public_key().hex in out
    assert KEY.public_key().to_bech32() in out


def test_main_bad_configuration_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--relay", "wss://a.example"], {})
    assert exit_info.value.code == 2
    assert "no key" in capsys.readouterr().err


def test_help_documents_every_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"], {})
    out = capsys.readouterr().out
    for name in ("BURROW_PUSH_KEY", "BURROW_PUSH_RELAYS", "BURROW_PUSH_WEBHOOK_AUTH"):
        assert name in out
