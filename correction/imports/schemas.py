"""Bodies of the import endpoints."""
from __future__ import annotations

from pydantic import Field

from ..schemas import Id, Output, Query


class ImportQuery(Query):
    """How to import: a dry run (the default) only reports; supervisors name the office."""

    dry_run: bool = Field(default=True, description="Report only (default); false: enrol every row or none.")
    office_id: Id | None = Field(default=None, description="Supervisors and admins: the office to enrol into.")


class ProblemOut(Output):
    row: int = Field(description="The row number as the spreadsheet shows it.")
    column: str = Field(description="The column's header as written in the file.")
    code: str
    message: str


class ImportOut(Output):
    """What an import found or did; the problems are listed up to a cap, their total always given."""

    office_id: int
    dry_run: bool
    written: bool
    file_type: str
    sha256: str
    rows: int
    created: int = Field(description="Enrolled; in a dry run or a refused real run (written false), would be.")
    unchanged: int = Field(description="Already enrolled here with the same details.")
    refused: int
    problems_total: int
    problems_truncated: bool
    problems: list[ProblemOut]
    ignored_columns: list[str]
