"""Each adapter against its fake provider: the request as documented, and every kind of answer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from correction.config import Settings
from correction.delivery.aliyun_sms import AliyunSmsChannel
from correction.delivery.channels import Message
from correction.delivery.jpush import JPushChannel

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(provider_settings) -> Settings:
    return Settings(**provider_settings)


def spot_notice(**extra) -> Message:
    values = dict(delivery_id=7, notification_id=3, kind="spot_check", title="实时签到 Spot check",
                  body="Check in with a fresh location within 15 minutes.",
                  data={"spot_check_id": 5, "due_at": "2026-11-25T02:15:00Z"}, push_token="1a0018970af9e3b3e24",
                  phone="13800000001", expires_at=NOW + timedelta(minutes=15))
    return Message(**(values | extra))


def test_a_push_reaches_the_registered_phone_with_its_extras_and_deadline(settings, jpush):
    jpush.registered.add("1a0018970af9e3b3e24")
    outcome = JPushChannel(settings).send(spot_notice(), NOW)
    assert outcome.status == "delivered"
    [push] = jpush.pushes
    assert outcome.message_id == push["msg_id"]
    assert push["registration_id"] == "1a0018970af9e3b3e24" and push["sendno"] == 7
    assert push["title"] == "实时签到 Spot check"
    assert push["extras"] == {"notification_id": 3, "kind": "spot_check", "spot_check_id": 5,
                              "due_at": "2026-11-25T02:15:00Z"}
    assert push["time_to_live"] == 900  # JPush drops it when the spot check is due


def test_an_unknown_registration_id_fails_with_jpushs_reason(settings, jpush):
    outcome = JPushChannel(settings).send(spot_notice(), NOW)
    assert (outcome.status, outcome.reason) == ("failed", "jpush 1011: cannot find user by this audience")
    assert JPushChannel(settings).send(spot_notice(push_token=None), NOW).status == "failed"
    assert jpush.requests == 1  # no push id: nothing is asked of JPush


def test_a_wrong_master_secret_fails_as_jpush_refuses_it(settings, jpush):
    jpush.registered.add("1a0018970af9e3b3e24")
    outcome = JPushChannel(settings.model_copy(update={"JPUSH_MASTER_SECRET": "wrong"})).send(spot_notice(), NOW)
    assert (outcome.status, outcome.reason) == ("failed", "jpush 1004: Authen failed")
    assert jpush.pushes == []


def test_rate_limits_and_outages_are_retried_and_a_silent_provider_is_not(settings, jpush):
    jpush.registered.add("1a0018970af9e3b3e24")
    jpush.script = ["rate_limit", "unavailable", "timeout"]
    channel = JPushChannel(settings)
    limited = channel.send(spot_notice(), NOW)
    assert (limited.status, limited.retry_after) == ("retry", 42.0)
    assert channel.send(spot_notice(), NOW).status == "retry"
    silent = channel.send(spot_notice(), NOW)  # it may have sent it: at most once
    assert (silent.status, silent.reason) == ("failed", "jpush: no answer in time, outcome unknown")
    refused = JPushChannel(settings.model_copy(update={"JPUSH_BASE_URL": "http://127.0.0.1:9"})).send(spot_notice(), NOW)
    assert refused.status == "retry" and refused.reason.startswith("jpush unreachable")


def test_a_text_carries_the_approved_template_and_local_time_only(settings, sms):
    outcome = AliyunSmsChannel(settings).send(spot_notice(), NOW)
    assert outcome.status == "delivered"
    assert sms.texts == [{"phone": "13800000001", "template": "SMS_SPOT_CHECK", "params": {"time": "10:15"},
                          "biz_id": outcome.message_id}]


def test_sms_errors_are_the_providers(settings, sms):
    wrong_secret = settings.model_copy(update={"ALIYUN_ACCESS_KEY_SECRET": "not-the-secret"})
    outcome = AliyunSmsChannel(wrong_secret).send(spot_notice(), NOW)
    assert outcome.status == "failed" and outcome.reason.startswith("aliyun sms SignatureDoesNotMatch")
    unapproved = settings.model_copy(update={"SMS_TEMPLATES": {"spot_check": "SMS_NOT_APPROVED"}})
    outcome = AliyunSmsChannel(unapproved).send(spot_notice(), NOW)
    assert outcome.status == "failed" and outcome.reason.startswith("aliyun sms isv.SMS_TEMPLATE_ILLEGAL")
    sms.script = ["rate_limit", "unavailable"]
    assert AliyunSmsChannel(settings).send(spot_notice(), NOW).status == "retry"
    assert AliyunSmsChannel(settings).send(spot_notice(), NOW).status == "retry"
    assert AliyunSmsChannel(settings).send(spot_notice(kind="leave_decision"), NOW).status == "failed"
    assert sms.texts == []


def test_a_provider_chosen_without_its_credentials_stops_the_start():
    from correction.config import SettingsError

    with pytest.raises(SettingsError, match="CORRECTION_JPUSH_APP_KEY"):
        Settings.from_env(environ={}, DELIVERY_PUSH_CHANNEL="jpush")
    with pytest.raises(SettingsError, match="CORRECTION_ALIYUN_SMS_SIGN_NAME"):
        Settings.from_env(environ={}, DELIVERY_SMS_CHANNEL="aliyun_sms", ALIYUN_ACCESS_KEY_ID="id",
                          ALIYUN_ACCESS_KEY_SECRET="secret")
    assert Settings.from_env(environ={}).DELIVERY_PUSH_CHANNEL == "log"  # runs with no account at all
