"""Failed logins counted per (account, client): five in a row lock that pair for ten minutes.

CJIS Security Policy 5.5.3 asks for a lock after at most 5 consecutive invalid attempts, for at
least 10 minutes, of "the account/node". Locking the account alone let anybody who knows a phone
number keep its owner locked out (and miss check-ins), and told strangers which numbers belong to
someone under supervision. So the pair is locked: the attacker's client, not the owner's phone.
An identifier nobody holds is counted and locked exactly like a real one.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..database import insert_for
from ..errors import Locked
from .models import LoginFailure


@dataclass(frozen=True)
class Attempt:
    """Who tried to log in as what: the pair failures are counted against."""

    kind: str  # "officer" or "supervisee"
    key: str  # keyed hash of the identifier typed
    client: str

    @property
    def pair(self) -> sa.ColumnElement[bool]:
        return sa.and_(LoginFailure.account_kind == self.kind, LoginFailure.account_key == self.key,
                       LoginFailure.client == self.client)


def attempt(settings, kind: str, identifier: str, address: str | None, *, bound_device_id: int | None = None
            ) -> Attempt:
    """Return the pair of an attempt at ``identifier`` (username or phone) from ``address``.

    An attempt from the account's bound phone (``bound_device_id``: the login named it) is counted
    against that phone, not the address: many phones share one address behind a carrier's NAT,
    and a stranger behind the same one must not lock the owner out.
    """
    client = f"device:{bound_device_id}" if bound_device_id is not None else client_of(settings, address)
    return Attempt(kind, account_key(settings, kind, identifier), client)


def account_key(settings, kind: str, identifier: str) -> str:
    """Return the stored form of an account identifier: a keyed hash, so no phone number is kept."""
    key = hashlib.sha256(b"login-account:" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{kind}:{identifier}".encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def client_of(settings, address: str | None) -> str:
    """Return the client failures are counted against: an IPv4 address, or an IPv6 prefix.

    One IPv6 subscriber holds a whole /64; counting single addresses would give them billions of tries.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{settings.LOGIN_CLIENT_IPV6_PREFIX}", strict=False))
    return str(ip)


def refuse_if_locked(session, pair: Attempt, now: datetime) -> None:
    """Answer 423 while this client is locked out of this account (known or not)."""
    locked_until = session.execute(sa.select(LoginFailure.locked_until).where(pair.pair)).scalar_one_or_none()
    if locked_until is not None and locked_until > now:
        retry = int((locked_until - now).total_seconds()) + 1
        raise Locked(details={"retry_after_seconds": retry}, headers={"Retry-After": str(retry)})


def count_failure(pair: Attempt, settings, now: datetime):
    """Return the write that counts a failure of the pair and locks it at the limit."""

    def write(session) -> None:
        insert = insert_for(session)
        table = LoginFailure.__table__
        session.execute(
            insert(LoginFailure)
            .values(account_kind=pair.kind, account_key=pair.key, client=pair.client, failures=1,
                    last_failure_at=now)
            .on_conflict_do_update(index_elements=["account_kind", "account_key", "client"],
                                   set_={"failures": table.c.failures + 1, "last_failure_at": now}))
        session.execute(
            sa.update(LoginFailure)
            .where(pair.pair, LoginFailure.failures >= settings.LOGIN_MAX_FAILURES)
            .values(failures=0, locked_until=now + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)))

    return write


def clear_failures(session, pair: Attempt) -> None:
    """Forget the pair's failures after a success: only this client proved it knows the password."""
    session.execute(sa.delete(LoginFailure).where(pair.pair))


def failures_of(session, settings, kind: str, identifier: str) -> list[LoginFailure]:
    """Return every client's failures and lock on an account, most recent first."""
    key = account_key(settings, kind, identifier)
    return list(session.execute(
        sa.select(LoginFailure).where(LoginFailure.account_kind == kind, LoginFailure.account_key == key)
        .order_by(LoginFailure.last_failure_at.desc(), LoginFailure.id.desc())).scalars())


def lift(session, settings, kind: str, identifier: str) -> int:
    """Lift every client's lock on an account and forget its failures; return how many pairs."""
    key = account_key(settings, kind, identifier)
    return session.execute(sa.delete(LoginFailure).where(
        LoginFailure.account_kind == kind, LoginFailure.account_key == key)).rowcount


def forget_stale_failures(session, settings, now: datetime) -> int:
    """Delete the pairs with no lock in force and no failure for ``LOGIN_FAILURES_FORGET_HOURS``.

    Attempts at identifiers nobody holds would otherwise pile up for ever; "consecutive" failures
    are counted within that period (NIST SP 800-53 AC-7: a limit of attempts during a time period).
    """
    cutoff = now - timedelta(hours=settings.LOGIN_FAILURES_FORGET_HOURS)
    return session.execute(sa.delete(LoginFailure).where(
        LoginFailure.last_failure_at < cutoff,
        sa.or_(LoginFailure.locked_until.is_(None), LoginFailure.locked_until <= now))).rowcount
