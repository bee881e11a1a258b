"""`page`/`per_page` parsing and paging of a select, shared by the list endpoints."""

import math
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from cutover.compat import ApiError, first_query_value, flask_args
from new_fastapi.validation import INT32_MAX, parse_digits

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class PageRequest:
    """Which slice of a listing was asked for."""

    page: int
    per_page: int


async def page_request(request: Request) -> PageRequest:
    """`page` and `per_page` as positive integers (first value when repeated), else the 400."""
    page = parse_digits(first_query_value(request, "page", "1"))
    per_page = parse_digits(first_query_value(request, "per_page", str(DEFAULT_PER_PAGE)))
    if not page or not per_page:
        raise ApiError(400, "Invalid pagination parameters")
    return PageRequest(page=page, per_page=min(per_page, MAX_PER_PAGE))


PageDep = Annotated[PageRequest, Depends(page_request)]


def paginate(
    session: Session, query: Select[RowT], page: PageRequest
) -> tuple[list[RowT], dict[str, Any]]:
    """The rows of one page and the page metadata; pages past the end are empty."""
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    offset = (page.page - 1) * page.per_page
    # Only query when the offset is within the rows, so huge page numbers never reach the SQL.
    rows = (
        list(session.scalars(query.offset(offset).limit(page.per_page))) if offset < total else []
    )
    meta = {
        "page": page.page,
        "pages": math.ceil(total / page.per_page),
        "per_page": page.per_page,
        "total": total,
    }
    return rows, meta


DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class WindowRequest:
    """`limit` rows from `offset`, as read; checking them is the unit of work's job."""

    limit: int
    offset: int

    @property
    def valid(self) -> bool:
        return 1 <= self.limit <= MAX_LIMIT and 0 <= self.offset <= INT32_MAX


async def window_request(request: Request) -> WindowRequest:
    """`limit` and `offset` as Flask's `args.get(name, default, type=int)`: unreadable, default."""
    args = flask_args(request)
    return WindowRequest(
        limit=args.get("limit", DEFAULT_LIMIT, type=int),
        offset=args.get("offset", 0, type=int),
    )


WindowDep = Annotated[WindowRequest, Depends(window_request)]
