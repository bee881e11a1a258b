"""`page`/`per_page` parsing and paging of a select, shared by the list endpoints."""

import math
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from werkzeug.datastructures import MultiDict

from legacy_flask.extensions import db
from legacy_flask.validation import parse_digits

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Page:
    """Which slice of a listing was asked for."""

    page: int
    per_page: int


def parse_page(args: "MultiDict[str, str]") -> Page | None:
    """The requested page, or None when a value is not a positive integer."""
    page = parse_digits(args.get("page", "1"))
    per_page = parse_digits(args.get("per_page", str(DEFAULT_PER_PAGE)))
    if not page or not per_page:
        return None
    return Page(page=page, per_page=min(per_page, MAX_PER_PAGE))


def paginate(query: Select[RowT], page: Page) -> tuple[list[RowT], dict[str, Any]]:
    """The rows of one page and the page metadata; pages past the end are empty."""
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    offset = (page.page - 1) * page.per_page
    # Only query when the offset is within the rows, so huge page numbers never reach the SQL.
    rows = (
        list(db.session.execute(query.offset(offset).limit(page.per_page)).scalars())
        if offset < total
        else []
    )
    meta = {
        "page": page.page,
        "pages": math.ceil(total / page.per_page),
        "per_page": page.per_page,
        "total": total,
    }
    return rows, meta
