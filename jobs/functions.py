"""Thin job functions: each calls one service with (session, settings, now) and returns rows touched."""
from __future__ import annotations

from correction.auth.lockout import forget_stale_failures
from correction.checkins.period_spot_checks import issue_period_spot_checks
from correction.delivery.dispatcher import dispatch
from correction.delivery.failures import raise_delivery_failures
from correction.delivery.officers import announce, send_digests
from correction.monitoring import retention, scoring, sweeps

missed_checkins = sweeps.sweep_missed_checkins
missed_spot_checks = sweeps.sweep_missed_spot_checks
signal_lost = sweeps.sweep_signal_lost
leave_overdue = sweeps.sweep_leave_overdue
escalate_alerts = sweeps.escalate_unacknowledged
window_reminders = sweeps.send_window_reminders
purge_location_fixes = retention.purge_location_data
forget_login_failures = forget_stale_failures
missed_checkin_penalties = scoring.apply_missed_checkin_penalties
compliant_week_awards = scoring.award_compliant_week
period_spot_checks = issue_period_spot_checks
dispatch_notifications = dispatch
announce_to_officers = announce
officer_digests = send_digests
delivery_failures = raise_delivery_failures


def weekly_reports(session, settings, now):
    """Build and store last week's reports for every office and bureau."""
    from zoneinfo import ZoneInfo

    from correction.reports.service import build_all
    from correction.reports.weeks import last_complete_week

    return build_all(session, settings, now, last_complete_week(now, ZoneInfo(settings.LOCAL_TIMEZONE)))
