"""Fake providers on loopback, and settings that point the channels at them."""
from __future__ import annotations

import pytest

from .fakes import (ACCESS_KEY_ID, ACCESS_KEY_SECRET, APP_KEY, MASTER_SECRET, SIGN_NAME, FakeAliyunSms,
                    FakeDingTalk, FakeJPush, FakeWeCom)


@pytest.fixture(scope="session")
def _jpush_server():
    server = FakeJPush()
    yield server
    server.close()


@pytest.fixture(scope="session")
def _sms_server():
    server = FakeAliyunSms()
    yield server
    server.close()


@pytest.fixture(scope="session")
def _dingtalk_server():
    server = FakeDingTalk()
    yield server
    server.close()


@pytest.fixture(scope="session")
def _wecom_server():
    server = FakeWeCom()
    yield server
    server.close()


@pytest.fixture
def dingtalk(_dingtalk_server) -> FakeDingTalk:
    _dingtalk_server.reset()
    return _dingtalk_server


@pytest.fixture
def wecom(_wecom_server) -> FakeWeCom:
    _wecom_server.reset()
    return _wecom_server


@pytest.fixture
def jpush(_jpush_server) -> FakeJPush:
    _jpush_server.reset()
    return _jpush_server


@pytest.fixture
def sms(_sms_server) -> FakeAliyunSms:
    _sms_server.reset()
    return _sms_server


@pytest.fixture
def provider_settings(jpush, sms) -> dict:
    return dict(DELIVERY_PUSH_CHANNEL="jpush", JPUSH_BASE_URL=jpush.url, JPUSH_APP_KEY=APP_KEY,
                JPUSH_MASTER_SECRET=MASTER_SECRET, DELIVERY_SMS_CHANNEL="aliyun_sms",
                ALIYUN_SMS_ENDPOINT=sms.url, ALIYUN_ACCESS_KEY_ID=ACCESS_KEY_ID,
                ALIYUN_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME=SIGN_NAME,
                DELIVERY_ROBOT_CHANNEL="webhook", DELIVERY_HTTP_TIMEOUT_SECONDS=0.5)


@pytest.fixture
def settings_overrides(provider_settings) -> dict:
    return provider_settings
