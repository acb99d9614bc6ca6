"""The schedule, as data: which function runs on which trigger."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import functions


@dataclass(frozen=True)
class JobSpec:
    id: str
    function: Callable
    trigger: BaseTrigger
    description: str


def schedule(settings) -> list[JobSpec]:
    """Return the jobs to run; cron times are local (LOCAL_TIMEZONE)."""
    zone = settings.LOCAL_TIMEZONE
    return [
        JobSpec("missed_checkins", functions.missed_checkins, IntervalTrigger(minutes=1),
                "flag check-in windows that closed unsatisfied"),
        JobSpec("missed_spot_checks", functions.missed_spot_checks, IntervalTrigger(minutes=1),
                "flag spot checks not answered in time"),
        JobSpec("period_spot_checks", functions.period_spot_checks, IntervalTrigger(minutes=1),
                "issue the spot checks of periods of stepped-up supervision (临时加强监管)"),
        JobSpec("signal_lost", functions.signal_lost, IntervalTrigger(minutes=5),
                "flag supervisees with no location fix for too long (失联)"),
        JobSpec("leave_overdue", functions.leave_overdue, IntervalTrigger(minutes=10),
                "flag approved leave not closed by its end"),
        JobSpec("escalate_alerts", functions.escalate_alerts, IntervalTrigger(minutes=1),
                "escalate alerts not acknowledged within their SLA"),
        JobSpec("window_reminders", functions.window_reminders, IntervalTrigger(minutes=5),
                "remind supervisees before an unsatisfied window closes"),
        JobSpec("dispatch_notifications", functions.dispatch_notifications,
                IntervalTrigger(seconds=settings.DELIVERY_INTERVAL_SECONDS),
                "send queued notifications by push, and texts where a push did not reach the phone"),
        JobSpec("announce_to_officers", functions.announce_to_officers, IntervalTrigger(seconds=30),
                "tell officers' group robots of new serious alerts and of escalations (office, then bureau)"),
        JobSpec("officer_digests", functions.officer_digests,
                CronTrigger(hour=settings.ROBOT_DIGEST_HOUR, minute=0, timezone=zone),
                "send each office's robot its daily digest: open alerts, unacknowledged ones, yesterday's misses"),
        JobSpec("delivery_failures", functions.delivery_failures, IntervalTrigger(minutes=5),
                "raise a delivery_failed alert for notices that reached no phone in time"),
        JobSpec("missed_checkin_penalties", functions.missed_checkin_penalties, IntervalTrigger(minutes=1),
                "deduct points for each missed check-in, once"),
        JobSpec("compliant_week_awards", functions.compliant_week_awards,
                CronTrigger(day_of_week="mon", hour=0, minute=30, timezone=zone),
                "award points for a fully compliant week"),
        JobSpec("weekly_reports", functions.weekly_reports, CronTrigger(day_of_week="mon", hour=1, minute=0, timezone=zone),
                "build and store last week's compliance reports"),
        JobSpec("purge_location_fixes", functions.purge_location_fixes, CronTrigger(hour=3, minute=30, timezone=zone),
                "purge or blur every copy of location data past retention, and of ended supervision"),
        JobSpec("forget_login_failures", functions.forget_login_failures, IntervalTrigger(hours=1),
                "forget failed logins of clients that stopped trying (no lock in force)"),
    ]
