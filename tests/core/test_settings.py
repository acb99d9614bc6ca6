"""Settings are typed and checked when they are read from the environment (no database needed)."""
from __future__ import annotations

import json
import typing

import pytest

from correction.app import create_app
from correction.config import INSTANCE_DIR, Settings, SettingsError

FIELDS = [name for name in Settings.model_fields if name != "extra"]  # extra is for code, not the environment


def sample(annotation, default=None):
    """A valid value of ``annotation`` other than ``default``, for any annotated setting type.

    Numbers are the default plus a little, so they stay within what the cross-checks accept.
    """
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is bool:
        return not default
    if annotation is int:
        return default + 1 if isinstance(default, int) else 7
    if annotation is float:
        return default + 0.5 if isinstance(default, float) else 2.5
    if annotation is str:
        return "sample-value"
    if origin is dict:
        return {str(sample(args[0])) + "-key": sample(args[1])}
    if origin is list:
        return [sample(args[0])]
    if origin is typing.Literal:
        return next(choice for choice in args if choice != default)
    raise AssertionError(f"no sample value for {annotation!r}: teach sample() this setting type")


def as_environment(value) -> str:
    """``value`` written as a deployment would put it in the environment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def exact_type_of(annotation):
    if typing.get_origin(annotation) is typing.Literal:
        return type(typing.get_args(annotation)[0])
    return typing.get_origin(annotation) or annotation


# Settings checked at start need a sample that passes the check...
CHECKED_AT_START = {
    "METRICS_TOKEN": "sample-metrics-token",  # at least 16 characters
    "MAP_TILE_URL": "http://tiles.intranet/{z}/{x}/{y}.png",  # http(s)
    "STATION_SCREEN_FRAME_ANCESTORS": "'self' https://signage.example.com",  # keywords and http(s) origins
}
# ... or the settings they cannot start without (a provider chosen needs its credentials).
NEEDS = {
    "DELIVERY_PUSH_CHANNEL": {"CORRECTION_JPUSH_APP_KEY": "app-key", "CORRECTION_JPUSH_MASTER_SECRET": "secret"},
    "DELIVERY_SMS_CHANNEL": {"CORRECTION_ALIYUN_ACCESS_KEY_ID": "key-id", "CORRECTION_ALIYUN_ACCESS_KEY_SECRET": "secret",
                             "CORRECTION_ALIYUN_SMS_SIGN_NAME": "矫正"},
}


@pytest.mark.parametrize("name", FIELDS)
def test_every_setting_is_read_from_the_environment_with_its_declared_type(name):
    annotation = Settings.model_fields[name].annotation
    default = Settings.model_fields[name].get_default(call_default_factory=True)
    # rate limits are checked at start: their sample must be one
    value = "7 per hour" if name.endswith("RATE_LIMIT") else sample(annotation, default)
    value = CHECKED_AT_START.get(name, value)
    assert value != default

    settings = Settings.from_env(environ={f"CORRECTION_{name}": as_environment(value), **NEEDS.get(name, {})})

    got = getattr(settings, name)
    assert type(got) is exact_type_of(annotation)
    assert got == value
    if isinstance(got, dict):
        assert all(type(v) is type(value[k]) for k, v in got.items())


def test_a_float_setting_from_the_environment_is_a_float_not_a_string():
    settings = Settings.from_env(environ={"CORRECTION_ACCURACY_CAP_M": "30"})
    assert settings.ACCURACY_CAP_M == 30.0 and type(settings.ACCURACY_CAP_M) is float


@pytest.mark.parametrize("variable, raw, reason", [
    ("CORRECTION_ACCURACY_CAP_M", "abc", "valid number"),
    ("CORRECTION_ACCURACY_CAP_M", "nan", "finite number"),
    ("CORRECTION_MAX_CONTENT_LENGTH", "1.5MB", "valid integer"),
    ("CORRECTION_SIGNAL_LOST_HOURS", "{strict: 2}", "not valid JSON"),
    ("CORRECTION_SIGNAL_LOST_HOURS", '{"strict": "two"}', "valid integer"),
    ("CORRECTION_REMOTE_CADENCE", '["daily"]', "valid dictionary"),
])
def test_a_bad_value_stops_the_start_naming_the_variable_and_the_reason(variable, raw, reason):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ={variable: raw})
    message = str(caught.value)
    assert variable in message and reason in message
    assert isinstance(caught.value, ValueError)


def test_every_bad_value_is_named_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ={"CORRECTION_ACCURACY_CAP_M": "abc", "CORRECTION_SIGNAL_LOST_HOURS": "{",
                                   "CORRECTION_PAGE_SIZE_MAX": "lots"})
    message = str(caught.value)
    for variable in ("CORRECTION_ACCURACY_CAP_M", "CORRECTION_SIGNAL_LOST_HOURS", "CORRECTION_PAGE_SIZE_MAX"):
        assert variable in message


def test_the_secret_key_is_never_repeated_in_an_error():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(environ={}, SECRET_KEY=["hunter2"])
    assert "SECRET_KEY" in str(caught.value) and "hunter2" not in str(caught.value)


def test_create_app_callers_see_the_error(monkeypatch):
    monkeypatch.setenv("CORRECTION_ACCURACY_CAP_M", "abc")
    with pytest.raises(SettingsError, match="CORRECTION_ACCURACY_CAP_M"):
        create_app()


def test_from_env_reads_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("CORRECTION_TRACK_MAX_DAYS", "3")
    assert Settings.from_env().TRACK_MAX_DAYS == 3


def test_plain_database_url_and_secret_key_are_read():
    settings = Settings.from_env(environ={"DATABASE_URL": "postgres://u@db/app", "SECRET_KEY": "plain-secret"})
    assert settings.DATABASE_URL == "postgresql+psycopg://u@db/app"
    assert settings.SECRET_KEY == "plain-secret"


def test_the_prefixed_name_wins_over_the_plain_one():
    settings = Settings.from_env(environ={
        "DATABASE_URL": "sqlite:///plain.db", "CORRECTION_DATABASE_URL": "sqlite:///prefixed.db",
        "SECRET_KEY": "plain", "CORRECTION_SECRET_KEY": "prefixed"})
    assert (settings.DATABASE_URL, settings.SECRET_KEY) == ("sqlite:///prefixed.db", "prefixed")


def test_other_settings_have_no_plain_name():
    assert Settings.from_env(environ={"ACCURACY_CAP_M": "1", "ENV": "production"}).ACCURACY_CAP_M == 50.0


def test_names_are_case_sensitive_and_extra_is_not_read():
    settings = Settings.from_env(environ={"correction_accuracy_cap_m": "1", "CORRECTION_EXTRA": "{not json"})
    assert settings.ACCURACY_CAP_M == 50.0 and settings.extra == {}


def test_overrides_win_keep_their_types_and_replace_a_dict_whole():
    settings = Settings.from_env(
        environ={"CORRECTION_ALERT_SEVERITY": '{"zone_exit": "low", "signal_lost": "low"}',
                 "CORRECTION_TRACK_MAX_DAYS": "3"},
        ALERT_SEVERITY={"missed_checkin": "low"}, TRACK_MAX_DAYS=9, extra={"anything": object})
    assert settings.ALERT_SEVERITY == {"missed_checkin": "low"}
    assert settings.TRACK_MAX_DAYS == 9
    assert settings.extra == {"anything": object}


def test_a_bad_override_is_named_as_an_argument():
    with pytest.raises(SettingsError, match=r"TRACK_MAX_DAYS \(keyword argument\).*valid integer"):
        Settings.from_env(environ={}, TRACK_MAX_DAYS="many")
    with pytest.raises(SettingsError, match="NO_SUCH_SETTING.*no such setting"):
        Settings.from_env(environ={}, NO_SUCH_SETTING=1)


def test_direct_construction_ignores_the_environment(monkeypatch):
    monkeypatch.setenv("CORRECTION_TRACK_MAX_DAYS", "3")
    assert Settings().TRACK_MAX_DAYS == 31
    assert Settings(TRACK_MAX_DAYS=5).TRACK_MAX_DAYS == 5


def test_defaults_are_unchanged():
    settings = Settings.from_env(environ={})
    assert settings.ENV == "development"
    assert settings.SECRET_KEY == "dev-only-change-me"
    assert settings.DATABASE_URL == f"sqlite:///{INSTANCE_DIR / 'correction.db'}"
    assert settings.MAX_CONTENT_LENGTH == 1024 * 1024
    assert settings.ACCURACY_CAP_M == 50.0 and type(settings.ACCURACY_CAP_M) is float
    assert settings.SCHEDULER_STANDBY_POLL_SECONDS == 2.0
    assert settings.SCHEDULER_LOCK_KEY == 0x636F7272
    assert settings.SCHEDULER_LOCK_FILE == str(INSTANCE_DIR / "scheduler.lock")
    assert settings.SIGNAL_LOST_HOURS == {"strict": 2, "normal": 6, "lenient": 24}
    assert settings.ALERT_ACK_SLA_MINUTES == {"critical": 15, "high": 60, "medium": 240, "low": 1440}
    assert settings.REMOTE_CADENCE == {"strict": "daily", "normal": "weekly", "lenient": "weekly"}
    assert settings.ALERT_SEVERITY["exclusion_entry"] == "critical"
    assert settings.extra == {}


def test_defaults_are_not_shared_between_settings():
    first, second = Settings(), Settings()
    first.SIGNAL_LOST_HOURS["strict"] = 99
    assert second.SIGNAL_LOST_HOURS["strict"] == 2


def test_settings_stay_mutable_and_typed():
    settings = Settings.from_env(environ={})
    settings.TRACK_MAX_POINTS = 3
    settings.ACCURACY_CAP_M = 10
    assert settings.TRACK_MAX_POINTS == 3 and type(settings.ACCURACY_CAP_M) is float


@pytest.mark.parametrize("environ, message", [
    ({"CORRECTION_ENV": "production"}, "CORRECTION_SECRET_KEY"),
    ({"CORRECTION_PAGE_SIZE_DEFAULT": "300"}, "CORRECTION_PAGE_SIZE_DEFAULT"),
    ({"CORRECTION_PAGE_SIZE_MAX": "0", "CORRECTION_PAGE_SIZE_DEFAULT": "0"}, "CORRECTION_PAGE_SIZE_MAX"),
    ({"CORRECTION_TRUSTED_PROXIES": "-1"}, "CORRECTION_TRUSTED_PROXIES"),
])
def test_unsafe_combinations_are_still_refused(environ, message):
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_env(environ=environ)
    assert isinstance(caught.value, RuntimeError)  # what these checks raised before


def test_production_with_a_secret_starts():
    settings = Settings.from_env(environ={"CORRECTION_ENV": "production", "SECRET_KEY": "s"})
    assert settings.flask_config()["SECRET_KEY"] == "s"
