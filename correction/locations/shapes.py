"""The compiled shapes of zones, kept by each application, so a fix does not fetch its zones' geometry.

A county's boundary as a permitted area has thousands of vertices (150 KB of GeoJSON): read, sent and
parsed for every fix, it cost more than everything else a fix costs (measured in docs/decisions.md).
A zone's geometry never changes once created (a changed area is a new zone, and a trigger refuses an
UPDATE of ``zones.geometry``), so a shape compiled once is right for that zone id for good.

Each application has its own (``locations.api`` keeps it in the app's extensions): under gunicorn,
a worker process's; in tests, a test's, whose database starts again with the same ids.

The one-statement ingests (``single``, ``batch``) send the ids of the zones this process already
holds for whoever sends (an ingest key, a person), as the zones of their last statement; the statement
leaves those zones' geometry out and sends every other zone's. A new zone therefore arrives with its
geometry at the next fix, and a retired one is simply no longer among the zones read. Both maps are
bounded: a zone pushed out of the shapes is no longer claimed as held, so its geometry comes again.

With a sender's zone ids the process may also keep the zones as judging reads them and the fingerprint the
statement gave of them (``remember``, ``known``): a single fix judged on those before it is sent
(``single``) is stored at once if its statement finds the fingerprint unchanged, and otherwise goes the
way of every fix.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Hashable, Iterable, NamedTuple

import sqlalchemy as sa

from .geometry import ZoneShape, compile_zone_text
from .judging import ActiveZone

MAX_SHAPES = 4096  # zones' compiled shapes a process keeps (a large polygon's is some hundred KB)
MAX_SENDERS = 65536  # senders whose last zones a process remembers (a few ints and small tuples each)


class Known(NamedTuple):
    """A sender's zones as their last statement read them (``settle``), and that statement's fingerprint of them."""

    person_id: int
    zones: tuple[ActiveZone, ...]  # shapes compiled
    fingerprint: str  # settle.ZONES_FINGERPRINT of the zones


class _Sender(NamedTuple):
    zone_ids: tuple[int, ...]
    known: Known | None = None  # its zones as (id, kind, name, starts, ends): no shapes


class ZoneShapes:
    """Compiled zone shapes by zone id, and the zones each sender's last statement read."""

    def __init__(self, max_shapes: int = MAX_SHAPES, max_senders: int = MAX_SENDERS):
        self._shapes: OrderedDict[int, ZoneShape] = OrderedDict()
        self._zones_of: OrderedDict[Hashable, _Sender] = OrderedDict()
        self._max_shapes, self._max_senders = max_shapes, max_senders
        self._lock = threading.Lock()  # gthread workers share a process

    def held_for(self, sender: Hashable) -> list[int]:
        """The ids of the zones whose shapes this process holds, of those ``sender``'s last statement read."""
        with self._lock:
            last = self._zones_of.get(sender)
            return [] if last is None else [zone_id for zone_id in last.zone_ids if zone_id in self._shapes]

    def remember(self, sender: Hashable, known: Known) -> None:
        """Keep ``known`` for ``sender``, whose last statement (``resolve``) read those zones.

        Kept without the zones' shapes, which stay the shapes' own (bounded by ``max_shapes``): ``known``
        gives them back with the shapes held, or not at all.
        """
        with self._lock:
            last = self._zones_of.get(sender)
            if last is not None and last.zone_ids == tuple(zone.id for zone in known.zones):
                zones = tuple((zone.id, zone.kind, zone.name, zone.starts, zone.ends) for zone in known.zones)
                self._zones_of[sender] = last._replace(known=known._replace(zones=zones))

    def known(self, sender: Hashable) -> Known | None:
        """What ``remember`` kept for ``sender``, if it is still kept and every one of its zones' shapes held."""
        with self._lock:
            last = self._zones_of.get(sender)
            if last is None or last.known is None or any(zone[0] not in self._shapes for zone in last.known.zones):
                return None
            return last.known._replace(zones=tuple(ActiveZone(zone_id, kind, name, self._shapes[zone_id], starts, ends)
                                                   for zone_id, kind, name, starts, ends in last.known.zones))

    def resolve(self, session, sender: Hashable, zones: Iterable[tuple[int, str | None]]) -> dict[int, ZoneShape]:
        """The shape of each (zone id, geometry text or None when held) a statement read for ``sender``.

        A held shape pushed out since ``held_for`` was asked is read again (one more statement, rarely).
        """
        zones = list(zones)
        found: dict[int, ZoneShape] = {}
        with self._lock:
            for zone_id, text in zones:
                if zone_id in self._shapes:  # held for another sender too (a key and its person): never recompiled
                    self._shapes.move_to_end(zone_id)
                    found[zone_id] = self._shapes[zone_id]
                elif text is not None:
                    found[zone_id] = self._put(zone_id, compile_zone_text(text))
        missing = [zone_id for zone_id, _ in zones if zone_id not in found]
        if missing:
            for zone_id, text in session.execute(_GEOMETRY, {"ids": missing}).all():
                with self._lock:
                    found[zone_id] = self._put(zone_id, compile_zone_text(text))
        with self._lock:
            self._zones_of[sender] = _Sender(tuple(zone_id for zone_id, _ in zones))
            self._zones_of.move_to_end(sender)
            while len(self._zones_of) > self._max_senders:
                self._zones_of.popitem(last=False)
        return found

    def _put(self, zone_id: int, shape: ZoneShape) -> ZoneShape:
        self._shapes[zone_id] = shape
        self._shapes.move_to_end(zone_id)
        while len(self._shapes) > self._max_shapes:
            self._shapes.popitem(last=False)
        return shape


_GEOMETRY = sa.text("SELECT id, CAST(geometry AS text) FROM zones WHERE id IN :ids").bindparams(
    sa.bindparam("ids", expanding=True))


__all__ = ["Known", "ZoneShapes"]
