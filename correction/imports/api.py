"""Officers' endpoints for bulk enrolment: import a spreadsheet, download its template."""
from __future__ import annotations

import hashlib

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..api import ApiBlueprint
from ..database import db
from ..errors import DomainError, UnsupportedMediaType, ValidationFailed
from ..people.access import current_principal
from ..ratelimit import RateLimit
from ..time import now
from . import service, template
from .schemas import ImportOut, ImportQuery

bp = ApiBlueprint("imports", __name__)
IMPORT_LIMIT = RateLimit("import", per_caller="IMPORT_RATE_LIMIT", per_client="IMPORT_CLIENT_RATE_LIMIT")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.operation("POST", "/supervisees/imports",
              summary="Import supervisees from the provincial spreadsheet (multipart field `file`; XLSX or CSV)",
              query=ImportQuery, response=ImportOut, auth="officer", audit="supervisee.import",
              errors=(409, 413, 415, 422), rate_limit=IMPORT_LIMIT)
def import_supervisees(query: ImportQuery):
    settings = current_app.config["SETTINGS"]
    data = _uploaded_file(settings.IMPORT_MAX_UPLOAD_BYTES)
    # what the audit keeps of a file refused before any row is read (not a spreadsheet, too many rows)
    g.audit.details = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "dry_run": query.dry_run}
    report = service.import_supervisees(db.session, settings, current_principal(), office_id=query.office_id,
                                        data=data, dry_run=query.dry_run, now=now())
    g.audit.target_type, g.audit.target_id = "office", report.office_id
    g.audit.details = report.audit_details()
    if report.refused and not query.dry_run:
        raise service.ImportRefused("Some rows cannot be enrolled; nothing was written.",
                                    details=ImportOut.model_validate(report).model_dump(mode="json"))
    return report


@bp.operation("GET", "/supervisees/imports/template.xlsx", summary="Download the import template (XLSX)",
              auth="officer", media_type=XLSX)
def template_xlsx():
    return _download(template.template_xlsx(), XLSX, "supervisees-import-template.xlsx")


@bp.operation("GET", "/supervisees/imports/template.csv", summary="Download the import template (CSV, UTF-8)",
              auth="officer", media_type="text/csv")
def template_csv():
    return _download(template.template_csv(), "text/csv; charset=utf-8", "supervisees-import-template.csv")


def _uploaded_file(max_bytes: int) -> bytes:
    """Return the bytes of the multipart field ``file``, refusing more than ``max_bytes``."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send the spreadsheet as multipart/form-data in the field 'file'.")
    too_large = DomainError(f"The file is larger than the {max_bytes} bytes an import accepts; split it.",
                            status=413, code="file_too_large", details={"max_bytes": max_bytes})
    request.max_content_length = max_bytes + 64 * 1024  # the file and the multipart envelope around it
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise too_large from None
    if upload is None:
        raise ValidationFailed("Attach the spreadsheet in the multipart field 'file'.", code="file_required")
    try:
        data = upload.read(max_bytes + 1)
    finally:
        upload.close()  # a large part is spooled to a temporary file
    if len(data) > max_bytes:
        raise too_large
    return data


def _download(data: bytes, mimetype: str, filename: str):
    response = current_app.response_class(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
