"""Location endpoints: batch upload, real-client ingest, zones, tracks, ingest keys."""
from __future__ import annotations

import base64
import json
import logging

from flask import current_app, g, request

from ..api import ApiBlueprint
from ..people.access import current_principal
from ..database import db
from ..errors import DomainError, Unauthorized, ValidationFailed
from ..people.service import get_supervisee
from ..ratelimit import RateLimit
from ..time import now
from . import batch, clients, ingest_keys, single, track, zones
from .schemas import (BatchIn, BatchOut, IngestKeyOut, IngestKeyStatus, TrackQuery, ZoneIn, ZoneList,
                      ZoneOut)
from .shapes import ZoneShapes

log = logging.getLogger(__name__)
bp = ApiBlueprint("locations", __name__)


def _settings():
    return current_app.config["SETTINGS"]


def _shapes() -> ZoneShapes:
    """This application's compiled zone shapes (see ``shapes``), made at its first fix."""
    shapes = current_app.extensions.get(_SHAPES)
    return shapes if shapes is not None else current_app.extensions.setdefault(_SHAPES, ZoneShapes())


_SHAPES = "correction.zone_shapes"


def _osmand_key() -> str | None:
    """The ingest key an OsmAnd report names (its ``id``), wherever the client put it."""
    if request.mimetype == "application/json":
        try:
            fields = _json_object(request.get_data(cache=True))
        except DomainError:  # not JSON, or absurdly deep: the view answers that; no key to count
            fields = {}
        key = fields.get("device_id") or fields.get("id") or fields.get("deviceid")
    else:
        fields = request.values
        key = fields.get("id") or fields.get("deviceid")
    return str(key) if key else None


def _owntracks_key() -> str | None:
    """The ingest key of an OwnTracks request: its Basic password (or user), unchecked."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return None
    return (password or user) if scheme.lower() == "basic" else None


UPLOAD_LIMIT = RateLimit("upload", per_caller="UPLOAD_RATE_LIMIT", per_client="UPLOAD_CLIENT_RATE_LIMIT")
# per key, whoever sends it: a key that is stolen, guessed or looping is held back alike
OSMAND_LIMIT = RateLimit("ingest", per_caller="INGEST_RATE_LIMIT", per_client="INGEST_CLIENT_RATE_LIMIT",
                         caller=_osmand_key)
OWNTRACKS_LIMIT = RateLimit("ingest", per_caller="INGEST_RATE_LIMIT", per_client="INGEST_CLIENT_RATE_LIMIT",
                            caller=_owntracks_key)
TRACK_LIMIT = RateLimit("track", per_caller="TRACK_RATE_LIMIT", per_client="TRACK_CLIENT_RATE_LIMIT")


@bp.operation("POST", "/me/locations", summary="Upload a batch of location fixes (at most 500)",
              body=BatchIn, response=BatchOut, auth="supervisee", rate_limit=UPLOAD_LIMIT)
def upload_locations(body: BatchIn):
    settings = _settings()
    if len(body.fixes) > settings.LOCATION_BATCH_MAX:
        raise ValidationFailed(f"At most {settings.LOCATION_BATCH_MAX} fixes per batch.", code="batch_too_large")
    return batch.ingest(db.session, settings, current_principal().id, body.fixes, source="app", now=now(),
                        shapes=_shapes())


@bp.operation("POST", "/me/ingest-key", summary="Issue a new ingest key for OsmAnd/Traccar or OwnTracks",
              response=IngestKeyOut, status=201, auth="supervisee", audit="ingest_key.issue")
def issue_ingest_key():
    key = ingest_keys.issue(db.session, current_principal(), now())
    root = request.host_url.rstrip("/") + "/api/v1/ingest"
    life = ingest_keys.status(db.session, _settings(), current_principal().id, now())
    return {"ingest_key": key, "osmand_url": f"{root}/osmand", "owntracks_url": f"{root}/owntracks",
            "issued_at": life["issued_at"], "expires_at": life["expires_at"]}


@bp.operation("GET", "/me/ingest-key", summary="Your phone's ingest key: issued, expires, last used (not the key)",
              response=IngestKeyStatus, auth="supervisee")
def my_ingest_key():
    return ingest_keys.status(db.session, _settings(), current_principal().id, now())


@bp.operation("GET", "/supervisees/<id:supervisee_id>/ingest-key",
              summary="A supervisee's phone's ingest key: issued, expires, last used (not the key)",
              response=IngestKeyStatus, auth="officer", audit="ingest_key.read",
              audit_target=("supervisee", "supervisee_id"))
def supervisee_ingest_key(supervisee_id: int):
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    return ingest_keys.status(db.session, _settings(), person.id, now())


@bp.operation("DELETE", "/supervisees/<id:supervisee_id>/ingest-key",
              summary="Revoke a supervisee's ingest key (Traccar/OwnTracks stop being accepted)", status=204,
              auth="officer", audit="ingest_key.revoke", audit_target=("supervisee", "supervisee_id"))
def revoke_ingest_key(supervisee_id: int):
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    g.audit.details = {"had_key": ingest_keys.revoke(db.session, person)}


@bp.operation("GET", "/ingest/osmand", summary="OsmAnd protocol (Traccar Client): one fix in the query",
              media_type="text/plain", errors=(400,), rate_limit=OSMAND_LIMIT)
def osmand_get():
    return _osmand(request.args, json_mode=False)


@bp.operation("POST", "/ingest/osmand", summary="OsmAnd protocol (Traccar Client): query, form or JSON",
              media_type="text/plain", errors=(400,), rate_limit=OSMAND_LIMIT)
def osmand_post():
    if request.mimetype == "application/json":
        body = _json_object(request.get_data() or b"{}")
        return _ingest_osmand(*_parsed(clients.osmand_json, body), json_mode=True)
    params = request.args.to_dict() | request.form.to_dict()
    return _osmand(params, json_mode=False)


def _json_object(raw: bytes) -> dict:
    """Return the JSON object in a client's body; 400 ``invalid_json`` for anything else."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise DomainError("The body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise DomainError("The body must be a JSON object.", code="invalid_json")
    return body


def _osmand(params, json_mode: bool):
    return _ingest_osmand(*_parsed(clients.osmand_fields, params), json_mode=json_mode)


def _parsed(adapter, payload):
    try:
        return adapter(payload, now())
    except clients.ClientPayloadError as error:
        raise DomainError(str(error), code="invalid_fix") from None


def _ingest_osmand(key, fix, json_mode: bool):
    if not key:
        raise DomainError("The device id (ingest key) is missing.", code="device_id_missing")
    known = _ingest_one(str(key), fix, "osmand") if fix is not None else \
        ingest_keys.person_for_key(db.session, _settings(), str(key), now()) is not None
    if not known:
        if json_mode:
            raise DomainError("Unknown device.", status=404, code="unknown_device")
        raise DomainError("Unknown device.", code="unknown_device")
    if fix is None:
        raise DomainError("The report has no position.", code="invalid_fix")
    return current_app.response_class(b"", status=200, mimetype="text/plain")


@bp.operation("POST", "/ingest/owntracks", summary="OwnTracks HTTP mode (Basic auth: the ingest key as password)",
              media_type="application/json", errors=(400, 401), rate_limit=OWNTRACKS_LIMIT)
def owntracks():
    key = _owntracks_credential()
    raw = request.get_data()
    fix = _owntracks_message(raw) if raw.strip() else None
    # A location is stored with the key's check in one go; anything else checks the key first, so
    # a stranger's bad body is answered 401 as before.
    known = _ingest_one(key, fix, "owntracks") if fix is not None else \
        ingest_keys.person_for_key(db.session, _settings(), key, now()) is not None
    if not known:
        raise Unauthorized("Unknown ingest key.", headers=_CHALLENGE)
    if raw.strip() and fix is None:
        _owntracks_fix(_json_object(raw))  # not a location (or unreadable): answered as ever
    return []


_CHALLENGE = {"WWW-Authenticate": 'Basic realm="correction"'}


def _owntracks_credential() -> str:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized("Send the ingest key as the Basic auth password.", headers=_CHALLENGE)
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        raise Unauthorized("Malformed Basic credentials.", headers=_CHALLENGE) from None
    return password or user


def _owntracks_message(raw: bytes) -> dict | None:
    """The fix of an OwnTracks body, or None when it has none or cannot be read (not yet an error)."""
    try:
        return _owntracks_fix(_json_object(raw))
    except DomainError:
        return None


def _owntracks_fix(message: dict) -> dict | None:
    try:
        return clients.owntracks_fix(message)
    except (clients.ClientPayloadError, ValueError, OverflowError) as error:
        raise DomainError(str(error), code="invalid_fix") from None


def _ingest_one(key: str, fix: dict, source: str) -> bool:
    """Store and evaluate a real client's fix; say whether the key is known."""
    settings = _settings()
    if not fix.get("accuracy_m"):
        fix["accuracy_m"] = settings.UNKNOWN_ACCURACY_M
    result = single.ingest_fix(db.session, settings, key, fix, source=source, now=now(), shapes=_shapes())
    if result is not None and result.refused:
        # Retrying would not help the client: the fix is refused for good. Say so in the log only.
        log.info("%s fix refused: %s", source, result.refused[0]["code"])
    return result is not None


@bp.operation("GET", "/supervisees/<id:supervisee_id>/zones", summary="A supervisee's active zones",
              response=ZoneList, auth="officer", audit="zone.list", audit_target=("supervisee", "supervisee_id"))
def list_zones(supervisee_id: int):
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    return {"items": zones.active_for(db.session, person.id)}


@bp.operation("POST", "/supervisees/<id:supervisee_id>/zones",
              summary="Add an exclusion zone or set the permitted area (replaces the previous one)",
              body=ZoneIn, response=ZoneOut, status=201, auth="officer", audit="zone.create",
              audit_target=("supervisee", "supervisee_id"))
def create_zone(supervisee_id: int, body: ZoneIn):
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    return zones.create_zone(db.session, current_principal(), person, kind=body.kind, name=body.name,
                             geometry=body.geometry, now=now())


@bp.operation("DELETE", "/zones/<id:zone_id>", summary="Retire a zone", status=204, auth="officer",
              audit="zone.retire", audit_target=("zone", "zone_id"))
def retire_zone(zone_id: int):
    zones.retire_zone(db.session, current_principal(), zone_id)


@bp.operation("GET", "/supervisees/<id:supervisee_id>/track",
              summary="A supervisee's track as GeoJSON or GPX (bounded; every look is audited)",
              query=TrackQuery, auth="officer", audit="track.read", audit_target=("supervisee", "supervisee_id"),
              media_type="application/geo+json, application/gpx+xml", rate_limit=TRACK_LIMIT)
def get_track(supervisee_id: int, query: TrackQuery):
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    g.audit.details = {"from": query.from_.isoformat(), "to": query.to.isoformat(), "format": query.format}
    return track.export(db.session, _settings(), person, query.from_, query.to, query.format)
