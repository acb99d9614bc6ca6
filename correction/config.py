"""Settings: the one home of every tunable number, each with its default and meaning.

Every setting can be overridden from the environment (``CORRECTION_<NAME>``, or the plain
name for the few that deployments conventionally set, such as ``DATABASE_URL``). Provinces
differ in the rules they apply, so rule numbers live here as settings, not in code.

Values are typed and checked when the settings are built (pydantic-settings): numbers and
booleans are parsed, dict and list settings are read as JSON, and a value that does not fit
stops the start with a :class:`SettingsError` naming the variable and the reason.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic_settings
from limits import parse
from pydantic import Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

ENV_PREFIX = "CORRECTION_"
PLAIN_ENV_NAMES = ("DATABASE_URL", "SECRET_KEY")  # Also read unprefixed, when CORRECTION_<NAME> is unset.
_NOT_FROM_ENV = frozenset({"extra"})  # Settings only code can give.
_NOT_ECHOED = frozenset({"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "JPUSH_MASTER_SECRET",
                         "ALIYUN_ACCESS_KEY_SECRET"})  # Never repeated in an error message.
DEFAULT_SECRET_KEY = "dev-only-change-me"  # Public (it is in this file): never served with.
MIN_SECRET_KEY_BYTES = 32  # A shorter key can be guessed offline from a signed status code.
# A source of CSP frame-ancestors we accept from configuration: a keyword or an http(s) origin.
_FRAME_SOURCE = re.compile(r"^(?:'none'|'self'|https?://(?:\*\.)?[A-Za-z0-9.-]+(?::[0-9]{1,5})?)$")
TEST_ENV = "test"  # The ENV the test suite runs under; the only one that may use a weak key.


class SettingsError(pydantic_settings.SettingsError, RuntimeError):
    """Settings the application cannot start with; the message names the variable and why.

    A ``ValueError`` (through pydantic-settings' ``SettingsError``) and, for callers of the
    production checks, which raised ``RuntimeError`` before, a ``RuntimeError`` too.
    """


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named for PostgreSQL URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Settings(BaseSettings):
    """Application settings with their defaults (see the module docstring for overrides).

    ``Settings(NAME=value, ...)`` gives defaults and the values given, checked but never
    read from the environment; :meth:`Settings.from_env` reads the environment.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, case_sensitive=True, extra="forbid", validate_assignment=True,
        allow_inf_nan=False)

    # --- Deployment --------------------------------------------------------------------
    ENV: str = "development"  # "production" refuses demo seeding; "test" (the suite) allows a weak SECRET_KEY.
    SECRET_KEY: str = DEFAULT_SECRET_KEY  # Signs status codes; keys national-ID hashes. >= 32 bytes.
    DATABASE_URL: str = f"sqlite:///{INSTANCE_DIR / 'correction.db'}"  # Embedded by default.
    MAX_CONTENT_LENGTH: int = 1024 * 1024  # Largest request body accepted, in bytes.
    LOCAL_TIMEZONE: str = "Asia/Shanghai"  # Zone in which rules stated in local time apply.
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: Literal["auto", "json", "text"] = "auto"  # "auto": one JSON object a line in production, text elsewhere.
    METRICS_TOKEN: str = ""  # Bearer token Prometheus sends to GET /metrics; empty: /metrics answers 404.

    # --- Authentication ----------------------------------------------------------------
    OFFICER_TOKEN_TTL_MINUTES: int = 12 * 60  # Absolute lifetime of an officer token.
    OFFICER_IDLE_TIMEOUT_MINUTES: int = 30  # Officer token dies after this much idleness.
    SUPERVISEE_TOKEN_TTL_MINUTES: int = 30 * 24 * 60  # Lifetime of a supervisee (phone) token.
    TOKEN_TOUCH_INTERVAL_SECONDS: int = 60  # Write last-used time at most this often.
    LOGIN_MAX_FAILURES: int = 5  # Consecutive failed logins from one client that lock it out of an account.
    LOGIN_LOCKOUT_MINUTES: int = 10  # How long such a lock lasts (an officer may lift it sooner).
    LOGIN_FAILURES_FORGET_HOURS: int = 24  # A client's failures on an account are forgotten after this long.
    LOGIN_CLIENT_IPV6_PREFIX: int = 64  # IPv6 clients are counted by this prefix (one subscriber's /64).
    PASSWORD_MIN_LENGTH: int = 8  # Shortest new password accepted (a common-password list applies too).
    LOGIN_RATE_LIMIT: str = "30 per minute"  # Per-client limit on login attempts.
    HSTS_MAX_AGE_SECONDS: int = 365 * 24 * 3600  # Strict-Transport-Security max-age over https (0: none).
    TRUSTED_PROXIES: int = 0  # Reverse proxies in front (nginx: 1); their X-Forwarded-* name the client.
    TOTP_ISSUER: str = "correction"  # Issuer shown in authenticator apps.
    TOTP_VALID_WINDOW: int = 1  # Time steps of clock drift accepted either side.
    ARGON2_TIME_COST: int = 3  # argon2id iterations.
    ARGON2_MEMORY_COST_KIB: int = 64 * 1024  # argon2id memory per hash.
    ARGON2_PARALLELISM: int = 2  # argon2id lanes.

    # --- Rate limits ("N per second|minute|hour|day"; per caller = person or ingest key) ----------
    RATELIMIT_ENABLED: bool = True  # Off only for the simulation, whose clock outruns the limits'.
    RATELIMIT_STORAGE_URI: str = "memory://"  # One process only; several workers need redis://127.0.0.1:6379.
    RATELIMIT_KEY_PREFIX: str = "correction"  # Prefix of the counters' keys in a shared store.
    INGEST_RATE_LIMIT: str = "120 per minute"  # OsmAnd/OwnTracks reports per ingest key.
    INGEST_CLIENT_RATE_LIMIT: str = "3000 per minute"  # ...per address (many phones share a carrier's).
    UPLOAD_RATE_LIMIT: str = "60 per minute"  # Batch uploads (POST /me/locations) per supervisee.
    UPLOAD_CLIENT_RATE_LIMIT: str = "3000 per minute"  # ...per address.
    CHECKIN_RATE_LIMIT: str = "30 per minute"  # Check-in attempts per supervisee.
    CHECKIN_CLIENT_RATE_LIMIT: str = "600 per minute"  # ...per address.
    STATUS_CODE_RATE_LIMIT: str = "30 per minute"  # Status code PNGs (GET /me/code.png) per supervisee.
    STATUS_CODE_CLIENT_RATE_LIMIT: str = "600 per minute"  # ...per address.
    CODE_VERIFY_RATE_LIMIT: str = "60 per minute"  # Status codes an officer reads (POST /codes/verify).
    CODE_VERIFY_CLIENT_RATE_LIMIT: str = "300 per minute"  # ...per address.
    STATION_QR_RATE_LIMIT: str = "120 per minute"  # Station codes (JSON and PNG) per officer or display.
    STATION_QR_CLIENT_RATE_LIMIT: str = "600 per minute"  # ...per address.
    TRACK_RATE_LIMIT: str = "30 per minute"  # Track exports per officer.
    TRACK_CLIENT_RATE_LIMIT: str = "120 per minute"  # ...per address.
    REPORT_RATE_LIMIT: str = "60 per minute"  # Weekly reports, any format, per officer.
    REPORT_CLIENT_RATE_LIMIT: str = "240 per minute"  # ...per address.
    REPORT_FILE_RATE_LIMIT: str = "10 per minute"  # Rendered reports (PDF, XLSX) per officer.
    REPORT_FILE_CLIENT_RATE_LIMIT: str = "30 per minute"  # ...per address.
    IMPORT_RATE_LIMIT: str = "10 per minute"  # Spreadsheet imports (dry runs too) per officer.
    IMPORT_CLIENT_RATE_LIMIT: str = "30 per minute"  # ...per address.

    # --- Bulk enrolment from the provincial spreadsheet ----------------------------------------
    IMPORT_MAX_UPLOAD_BYTES: int = 10 * 1024 * 1024  # Largest spreadsheet accepted (above MAX_CONTENT_LENGTH).
    IMPORT_MAX_UNPACKED_BYTES: int = 200 * 1024 * 1024  # Most an XLSX may unpack to (a zip bomb stops here).
    IMPORT_MAX_ROWS: int = 20_000  # Most data rows one import may hold.
    IMPORT_MAX_PROBLEMS_LISTED: int = 1000  # Row problems listed in an answer; the total is always given.

    # --- Check-ins (reporting cadence by level; local time) ---------------------------------
    REMOTE_CADENCE: dict[str, str] = Field(default_factory=lambda: {
        "strict": "daily", "normal": "weekly", "lenient": "weekly"})  # Phone check-in cadence.
    STATION_CADENCE: dict[str, str] = Field(default_factory=lambda: {
        "strict": "weekly", "normal": "monthly", "lenient": "bimonthly"})  # In-person cadence.
    CHECKIN_WINDOW_OPENS: str = "08:00"  # Local time a window opens on its first day.
    CHECKIN_WINDOW_CLOSES: str = "20:00"  # Local time a window closes on its due (last) day.
    SPOT_CHECK_MINUTES: int = 15  # Time a supervisee has to answer a spot check (点验).
    SPOT_CHECK_MAX_MINUTES: int = 120  # Longest answer time an officer may grant.
    QR_STEP_SECONDS: int = 30  # Station QR codes rotate this often.
    QR_PREVIOUS_STEPS: int = 1  # Earlier steps still accepted (covers scan-to-post latency).
    ACCURACY_CAP_M: float = 50.0  # At most this much GPS accuracy is added to a station radius.
    QR_SHARED_SCREEN_SLACK_M: float = 30.0  # Two phones reading one screen stand this close, beyond their accuracies.
    PRESENCE_LOOKBACK_MINUTES: int = 30  # Fixes this long before a station check-in must agree it was there.
    PRESENCE_MAX_SPEED_KMH: float = 120.0  # Fastest plausible way to the station (beyond that: flagged).
    ACCURACY_MAX_M: float = 2000.0  # A fix claiming worse accuracy is refused as useless.
    FIX_FUTURE_SKEW_SECONDS: int = 120  # A fix may be this far ahead of the server clock.
    CHECKIN_FIX_MAX_AGE_SECONDS: int = 600  # A check-in's fix may be at most this old.
    STATUS_CODE_TTL_SECONDS: int = 300  # Life of the token in a personal status code (矫正码).
    STATUS_MISS_LOOKBACK_DAYS: int = 7  # A miss this recent turns the status code yellow.
    SCHEDULE_UPCOMING: int = 3  # Upcoming windows per kind shown in /me/schedule.
    PERIOD_MAX_DAYS: int = 92  # Longest period of stepped-up supervision (临时加强监管) a bureau may declare.
    PERIOD_MAX_WINDOWS: int = 4  # Most extra check-in windows per day in such a period.

    # --- Locations, zones, leave ---------------------------------------------------------
    LOCATION_BATCH_MAX: int = 500  # Most fixes in one upload.
    INGEST_KEY_TTL_DAYS: int = 90  # An OsmAnd/OwnTracks ingest key stops working this long after issue.
    LOCATION_RETENTION_DAYS: int = 180  # Location data older than this is purged or blurred (PIPL Art. 19, 47).
    ENDED_SUPERVISION_LOCATION_DAYS: int = 30  # ...and all of a person's, this long after supervision ended.
    ZONE_CONFIRM_FIXES: int = 2  # Consecutive fixes that confirm an exit or an entry...
    ZONE_CONFIRM_SECONDS: int = 300  # ...or this long since the first fix that showed it.
    UNKNOWN_ACCURACY_M: float = 100.0  # Accuracy assumed when a client app sends none.
    IMPOSSIBLE_SPEED_KMH: float = 300.0  # Implied speed between fixes that raises an alert.
    TRACK_MAX_DAYS: int = 31  # Longest range of one track export.
    TRACK_MAX_POINTS: int = 10_000  # Most points in one track export (the rest is cut).
    LEAVE_OFFICE_MAX_DAYS: int = 7  # Leave an office officer may approve.
    LEAVE_BUREAU_MAX_DAYS: int = 30  # Leave a bureau supervisor may approve; longer is refused.

    # --- Scheduler, sweeps and the alert queue -------------------------------------------
    SIGNAL_LOST_HOURS: dict[str, int] = Field(default_factory=lambda: {
        "strict": 2, "normal": 6, "lenient": 24})  # No fix this long while active → 失联 alert.
    ALERT_ACK_SLA_MINUTES: dict[str, int] = Field(default_factory=lambda: {
        "critical": 15, "high": 60, "medium": 240, "low": 1440})  # Unacknowledged longer → escalated.
    REMINDER_MINUTES_BEFORE_CLOSE: int = 120  # Remind a supervisee this long before a window closes.
    SWEEP_FIRST_LOOKBACK_HOURS: int = 48  # How far back the first ever sweep looks for missed windows.
    SCHEDULER_LOCK_FILE: str = str(INSTANCE_DIR / "scheduler.lock")  # Leader lock on SQLite.
    SCHEDULER_LOCK_KEY: int = 0x636F7272  # PostgreSQL advisory lock key of the scheduler leader.
    SCHEDULER_STANDBY_POLL_SECONDS: float = 2.0  # How often a standby tries to become leader.
    SCHEDULER_MISFIRE_GRACE_SECONDS: int = 300  # A run this late still happens (once, coalesced).
    SCHEDULER_HEARTBEAT_SECONDS: float = 15.0  # The leader writes its heartbeat this often.
    SCHEDULER_HEARTBEAT_STALE_SECONDS: int = 90  # An older heartbeat fails /readyz: nobody runs the schedule.
    READINESS_NEEDS_SCHEDULER: bool = True  # False: /readyz reports a stale scheduler without failing.
    LADDER_ADMONITION_MAX_DAYS: int = 10  # Out of contact up to this: suggest 训诫 (admonition).
    LADDER_WARNING_MAX_DAYS: int = 30  # Beyond admonition up to this: 警告; longer: revocation request.
    SANCTION_ARTICLES: dict[str, str] = Field(default_factory=lambda: {
        "commendation": "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十三条",
        "admonition": "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十四条",
        "warning": "《社区矫正法》第二十八条；《社区矫正法实施办法》第三十五条",
        "revocation_requested": "《社区矫正法》第二十八条、第四十六条、第四十八条、第四十九条",
    })  # Legal basis recorded with each sanction outcome.

    # --- Delivery of notifications (correction.delivery) -----------------------------------------
    DELIVERY_PUSH_CHANNEL: Literal["log", "jpush", "none"] = "log"  # Sends pushes; "log" needs no account.
    DELIVERY_SMS_CHANNEL: Literal["log", "aliyun_sms", "none"] = "log"  # Sends the fallback texts.
    DELIVERY_INTERVAL_SECONDS: int = 10  # The dispatcher job's interval (PostgreSQL also wakes it by NOTIFY).
    DELIVERY_LISTEN: bool = True  # On PostgreSQL the scheduler leader LISTENs and dispatches at once.
    DELIVERY_BATCH_SIZE: int = 100  # Deliveries one dispatcher claims at a time.
    DELIVERY_SEND_CONCURRENCY: int = 4  # Requests of a batch in flight at once (a provider is far away).
    DELIVERY_MAX_ATTEMPTS: int = 10  # Tries of one delivery before it fails for good.
    DELIVERY_BACKOFF_BASE_SECONDS: float = 10.0  # Wait after the first failed try; doubles with each.
    DELIVERY_BACKOFF_MAX_SECONDS: float = 300.0  # Longest wait between tries.
    DELIVERY_BACKOFF_JITTER: float = 0.5  # Up to this fraction of a wait is taken off at random.
    DELIVERY_CLAIM_TIMEOUT_SECONDS: int = 300  # A send claimed longer ago than this died: failed, not resent.
    DELIVERY_HTTP_TIMEOUT_SECONDS: float = 5.0  # Connect and read timeout of a provider's API.
    SMS_FALLBACK_AFTER_ATTEMPTS: int = 3  # A text follows a push that failed for good or this often...
    SMS_TEMPLATES: dict[str, str] = Field(default_factory=lambda: {
        "spot_check": "SMS_SPOT_CHECK", "reminder": "SMS_CHECKIN_REMINDER"})  # The kinds a text may follow,
    # with their approved template codes (replace with the codes the SMS console approved); a kind
    # texted must have a deadline (``expires_at``), as these do.
    SMS_FALLBACK_AFTER_SECONDS: dict[str, int] = Field(default_factory=lambda: {
        "spot_check": 180, "reminder": 1800})  # ...and a notice of the kind not read on the phone this long.
    JPUSH_BASE_URL: str = "https://api.jpush.cn"  # JPush REST API v3 host.
    JPUSH_APP_KEY: str = ""  # JPush application key.
    JPUSH_MASTER_SECRET: str = ""  # JPush master secret (Basic auth with the app key).
    JPUSH_APNS_PRODUCTION: bool = True  # iOS: the APNs production environment (False: development).
    JPUSH_TIME_TO_LIVE_SECONDS: int = 86400  # Longest JPush keeps a push for an offline phone.
    ALIYUN_SMS_ENDPOINT: str = "https://dysmsapi.aliyuncs.com"  # Alibaba Cloud SMS RPC endpoint.
    ALIYUN_SMS_REGION: str = "cn-hangzhou"  # RegionId sent with SendSms.
    ALIYUN_ACCESS_KEY_ID: str = ""  # AccessKey id of the RAM user that may send texts.
    ALIYUN_ACCESS_KEY_SECRET: str = ""  # Its secret (signs each request).
    ALIYUN_SMS_SIGN_NAME: str = ""  # The approved sign name (签名) the texts carry.
    DELIVERY_ROBOT_CHANNEL: Literal["log", "webhook", "none"] = "log"  # Officers' messages: "webhook" posts
    # to each office's group robot (DingTalk or WeCom, set by admins); "log" needs no robot.
    ROBOT_ALERT_SEVERITIES: list[Literal["low", "medium", "high", "critical"]] = Field(
        default_factory=lambda: ["high", "critical"])  # A new alert this severe → office robot.
    ROBOT_ESCALATE_TO_BUREAU_MINUTES: int = 60  # Still unacknowledged this long after escalation → bureau robot.
    ROBOT_LOOKBACK_MINUTES: int = 60  # Alerts raised or escalated longer ago than this are not announced late.
    DELIVERY_FAILED_ALERT_AFTER_MINUTES: int = 30  # A notice undelivered this long (or failed) → delivery_failed alert.
    ROBOT_DIGEST_HOUR: int = 8  # Local hour (Asia/Shanghai) of each office's daily digest to its robot.
    ROBOT_DIGEST_UNACKNOWLEDGED_HOURS: int = 24  # The digest counts open alerts unacknowledged longer than this.
    ROBOT_RATE_LIMIT_WAIT_SECONDS: float = 60.0  # Wait after a robot's rate limit (20 messages a minute).

    # --- Points mall -------------------------------------------------------------------------
    POINT_ADJUSTMENT_MAX: int = 100  # Largest award or deduction an officer may make at once.
    POINT_RULE_MAX_POINTS: int = 1000  # Largest number of points a rule version may give or take per event.

    # --- Reports -------------------------------------------------------------------------------
    REPORT_FONT_PATH: str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # CJK font embedded in PDFs.

    # --- Officers' console ---------------------------------------------------------------
    CONSOLE_POLL_SECONDS: int = 10  # How often an open alert queue asks for new alerts.
    MAP_TILE_URL: str = ""  # Intranet tile server ({z}/{x}/{y}); empty: maps draw our data on a plain background.
    STATION_SCREEN_FRAME_ANCESTORS: str = "'none'"  # Origins (space-separated) that may frame the station screen.

    # --- API ---------------------------------------------------------------------------
    PAGE_SIZE_DEFAULT: int = 50  # Items per page when ?limit= is absent.
    PAGE_SIZE_MAX: int = 200  # Largest ?limit= accepted.

    # --- Alerts ------------------------------------------------------------------------
    ALERT_SEVERITY: dict[str, str] = Field(default_factory=lambda: {
        "missed_checkin": "medium",
        "missed_spot_check": "high",
        "signal_lost": "high",
        "zone_exit": "high",
        "exclusion_entry": "critical",
        "mock_location": "high",
        "impossible_movement": "medium",
        "leave_overdue": "high",
        "device_changed": "medium",
        "doubtful_checkin": "high",
        "delivery_failed": "medium",
    })  # Default severity of each alert type.

    extra: dict[str, Any] = Field(default_factory=dict)  # Overrides for tests and tools.

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Build from the arguments alone: the environment is read by :meth:`from_env` only."""
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from defaults, then the environment, then explicit overrides.

        ``environ`` defaults to ``os.environ``. Overrides are Python values (a dict, not JSON)
        and replace a setting whole. Raises :class:`SettingsError` naming every bad value.
        """
        environ = dict(os.environ if environ is None else environ)
        source = _Environment(cls, environ)
        values = source()
        values.update(overrides)
        problems = list(source.problems)
        settings = None
        try:
            settings = cls(**values)
        except ValidationError as exc:
            problems += [_describe(error, environ, overrides) for error in exc.errors()]
        if problems or settings is None:
            raise SettingsError(("invalid setting: " if len(problems) == 1 else "invalid settings: ")
                                + "; ".join(problems))
        settings.DATABASE_URL = normalise_database_url(settings.DATABASE_URL)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse settings that would be unsafe to run with."""
        if self.ENV == "production" and self.SECRET_KEY == DEFAULT_SECRET_KEY:
            raise SettingsError("CORRECTION_SECRET_KEY (or SECRET_KEY) must be set in production")
        if self.PAGE_SIZE_MAX < 1 or self.PAGE_SIZE_DEFAULT > self.PAGE_SIZE_MAX:
            raise SettingsError("CORRECTION_PAGE_SIZE_DEFAULT must be between 1 and CORRECTION_PAGE_SIZE_MAX")
        if not 1 <= self.LOGIN_CLIENT_IPV6_PREFIX <= 128:
            raise SettingsError("CORRECTION_LOGIN_CLIENT_IPV6_PREFIX is a prefix length: 1 to 128")
        if self.TRUSTED_PROXIES < 0:
            raise SettingsError("CORRECTION_TRUSTED_PROXIES counts proxies: 0 or more")
        if self.METRICS_TOKEN and len(self.METRICS_TOKEN) < 16:
            raise SettingsError("CORRECTION_METRICS_TOKEN is a bearer token: at least 16 characters (or empty: off)")
        if self.CONSOLE_POLL_SECONDS < 1:
            raise SettingsError("CORRECTION_CONSOLE_POLL_SECONDS must be at least 1")
        if self.MAP_TILE_URL and not self.MAP_TILE_URL.startswith(("http://", "https://")):
            raise SettingsError("CORRECTION_MAP_TILE_URL must be an http(s) URL with {z}, {x} and {y}")
        frame_sources = self.STATION_SCREEN_FRAME_ANCESTORS.split()
        if not frame_sources or not all(_FRAME_SOURCE.match(source) for source in frame_sources):
            raise SettingsError("CORRECTION_STATION_SCREEN_FRAME_ANCESTORS must be 'none', 'self' or http(s) origins")
        if self.ENV == "production" and not self.RATELIMIT_ENABLED:
            raise SettingsError("CORRECTION_RATELIMIT_ENABLED cannot be off in production")
        if self.DELIVERY_PUSH_CHANNEL == "jpush" and not (self.JPUSH_APP_KEY and self.JPUSH_MASTER_SECRET):
            raise SettingsError("CORRECTION_DELIVERY_PUSH_CHANNEL=jpush needs CORRECTION_JPUSH_APP_KEY and "
                                "CORRECTION_JPUSH_MASTER_SECRET")
        if self.DELIVERY_SMS_CHANNEL == "aliyun_sms" and not (
                self.ALIYUN_ACCESS_KEY_ID and self.ALIYUN_ACCESS_KEY_SECRET and self.ALIYUN_SMS_SIGN_NAME):
            raise SettingsError("CORRECTION_DELIVERY_SMS_CHANNEL=aliyun_sms needs CORRECTION_ALIYUN_ACCESS_KEY_ID, "
                                "CORRECTION_ALIYUN_ACCESS_KEY_SECRET and CORRECTION_ALIYUN_SMS_SIGN_NAME")
        if self.DELIVERY_BATCH_SIZE < 1 or self.DELIVERY_SEND_CONCURRENCY < 1 or self.DELIVERY_MAX_ATTEMPTS < 1:
            raise SettingsError("CORRECTION_DELIVERY_BATCH_SIZE, _SEND_CONCURRENCY and _MAX_ATTEMPTS are at least 1")
        for name in type(self).model_fields:
            if name.endswith("RATE_LIMIT"):
                try:
                    parse(getattr(self, name))
                except ValueError:
                    raise SettingsError(f"{ENV_PREFIX}{name}: not a rate limit such as '30 per minute' "
                                        f"(got {getattr(self, name)!r})") from None

    def check_secret_key(self) -> None:
        """Refuse to serve with the public default key or a short one, unless ``ENV`` is ``test``.

        Whatever ``ENV`` says otherwise: a deployment that forgets to set ``ENV`` must not run
        with a key anyone can read, which would let status codes be forged and ID hashes guessed.
        """
        if self.ENV == TEST_ENV:
            return
        if self.SECRET_KEY == DEFAULT_SECRET_KEY:
            problem = "is the public default"
        elif len(self.SECRET_KEY.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
            problem = f"is shorter than {MIN_SECRET_KEY_BYTES} bytes"
        else:
            return
        raise SettingsError(
            f"SECRET_KEY (or CORRECTION_SECRET_KEY) {problem}: set it to a random value of at least "
            f"{MIN_SECRET_KEY_BYTES} bytes, e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(48))' "
            "(make run keeps one in instance/secret_key)")

    def flask_config(self) -> dict[str, Any]:
        """Return the keys Flask and its extensions read, derived from these settings."""
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": self.DATABASE_URL,
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "JSON_SORT_KEYS": False,
            # SQL parameters (ids, coordinates, phone numbers) stay out of error messages and logs
            # everywhere but on a developer's machine.
            "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": self.ENV != "development"},
        }


def env_name(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Return the variable that sets ``name``: the plain name only when it alone is set."""
    prefixed = ENV_PREFIX + name
    if environ is not None and name in PLAIN_ENV_NAMES and prefixed not in environ and name in environ:
        return name
    return prefixed


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping, with the plain names.

    Reads ``CORRECTION_<NAME>`` (case-sensitive), then the plain name for ``PLAIN_ENV_NAMES``;
    dict and list settings are decoded from JSON. Undecodable values are collected in
    ``problems`` rather than raised one at a time.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env_vars = dict(environ)
        self.problems: list[str] = []

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name in _NOT_FROM_ENV:
            return None, field_name, False
        value, key, is_complex = super().get_field_value(field, field_name)
        if value is None and field_name in PLAIN_ENV_NAMES:
            value = self.env_vars.get(field_name)
        return value, key, is_complex

    def prepare_field_value(self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool) -> Any:
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError as exc:
            reason = f"not valid JSON ({exc})" if isinstance(exc, json.JSONDecodeError) else str(exc)
            self.problems.append(f"{env_name(field_name, self.env_vars)}: {reason}")
            return None


def _describe(error: Any, environ: Mapping[str, str], overrides: Mapping[str, Any]) -> str:
    """One pydantic error as ``VARIABLE[key]: reason (got value)``."""
    loc = error.get("loc") or ("?",)
    name = str(loc[0])
    where = f"{name} (keyword argument)" if name in overrides else env_name(name, environ)
    where += "".join(f"[{part!r}]" for part in loc[1:])
    if error.get("type") == "extra_forbidden":
        return f"{where}: no such setting"
    text = f"{where}: {error.get('msg', 'invalid')}"
    if name not in _NOT_ECHOED:
        shown = repr(error.get("input"))
        text += f" (got {shown if len(shown) <= 80 else shown[:77] + '...'})"
    return text
