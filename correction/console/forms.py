"""Reading a posted form through the API's own input schemas, so a page accepts exactly what the API does."""
from __future__ import annotations

from typing import Callable

from flask import request, url_for
from pydantic import BaseModel, ValidationError

from ..api import field_errors
from ..errors import ValidationFailed


def form_of(model: type[BaseModel], fields: dict[str, str], *, lax: bool = False) -> BaseModel:
    """Validate ``fields`` (strings from a form) against ``model``; 422 naming the fields otherwise.

    ``lax``: numbers and yes/no are read from their text ("12", "true") as pydantic's lax mode
    does, and a field left empty is left out (its default applies), as for optional fields.
    """
    if lax:
        fields = {name: value for name, value in fields.items() if value != ""}
    try:
        return model.model_validate(fields, strict=not lax)
    except ValidationError as error:
        raise ValidationFailed(details={"fields": field_errors(error)}) from None


def query_of(model: type[BaseModel], read: Callable[[str, str], str] | None = None) -> BaseModel:
    """Validate the query string against ``model``, an empty field meaning no value; 422 otherwise.

    ``read(name, value)`` turns a field as a page's form sends it into what ``model`` takes.
    """
    read = read or (lambda _name, value: value)
    try:
        return model.model_validate({name: read(name, value) for name, value in request.args.items() if value})
    except ValidationError as error:
        raise ValidationFailed(details={"fields": field_errors(error, prefix="query")}) from None


def safe_next(target: str | None) -> str:
    """A path on this site to go back to; anything else (another site, a scheme) goes to the login page."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("console.login")
