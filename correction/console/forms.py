"""Reading a posted form through the API's own input schemas, so a page accepts exactly what the API does."""
from __future__ import annotations

from flask import request, url_for
from pydantic import BaseModel, ValidationError

from ..api import field_errors
from ..errors import ValidationFailed


def form_of(model: type[BaseModel], fields: dict[str, str], *, strict: bool = True) -> BaseModel:
    """Validate ``fields`` (strings from a form) against ``model``; 422 naming the fields otherwise.

    ``strict=False`` lets a number typed in a field be read as the number the model asks for.
    """
    try:
        return model.model_validate(fields, strict=strict)
    except ValidationError as error:
        raise ValidationFailed(details={"fields": field_errors(error)}) from None


def query_of(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against ``model``, an empty field meaning no value; 422 otherwise."""
    try:
        return model.model_validate({name: value for name, value in request.args.items() if value})
    except ValidationError as error:
        raise ValidationFailed(details={"fields": field_errors(error, prefix="query")}) from None


def safe_next(target: str | None) -> str:
    """A path on this site to go back to; anything else (another site, a scheme) goes to the login page."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("console.login")
