"""The item catalogue; item creation also takes HTML-form posts."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from cutover.compat import ApiError, first_query_value, flask_form, flask_json_body
from new_fastapi.deps import SessionDep, documented_body, validate_body
from new_fastapi.messages import NO_DATA
from new_fastapi.pooled import PooledRoute
from new_fastapi.responses import item_response
from new_fastapi.schemas import ItemCreate, ItemResponse, ItemWithQuery
from new_fastapi.validation import INT32_MAX, parse_digits
from shared_models import Item

router = APIRouter(prefix="/items", tags=["items"], route_class=PooledRoute)

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
FORM_BOOLEANS = {"true": True, "false": False}


async def submitted_item(
    request: Request, data: Annotated[Any, Depends(flask_json_body)]
) -> ItemCreate:
    """The posted fields from a JSON object or, failing that, an urlencoded/multipart form."""
    if not (isinstance(data, dict) and data):
        form = await flask_form(request)
        if not form:
            raise ApiError(400, NO_DATA)
        data = {"tags": form.getlist("tags")}
        for name in ("name", "price"):
            if name in form:
                data[name] = form[name]
        if "is_available" in form:
            # Anything but "true"/"false" stays a string and fails the bool check.
            raw = form["is_available"]
            data["is_available"] = FORM_BOOLEANS.get(raw, raw)
    return validate_body(ItemCreate, data)


@router.post(
    "", status_code=201, response_model=ItemResponse, openapi_extra=documented_body(ItemCreate)
)
def create_item(
    payload: Annotated[ItemCreate, Depends(submitted_item)],
    session: SessionDep,
    response: Response,
) -> ItemResponse:
    item = Item(
        name=payload.name, price=payload.price, is_available=payload.is_available, tags=payload.tags
    )
    session.add(item)
    session.commit()
    response.headers["Location"] = f"/items/{item.id}"
    return item_response(item)


@router.get("/{item_id:int}", response_model=ItemWithQuery)
def get_item(item_id: int, request: Request, session: SessionDep) -> ItemWithQuery:
    item = session.get(Item, item_id) if item_id <= INT32_MAX else None
    if item is None:
        raise ApiError(404, "Item not found")
    return ItemWithQuery(q=first_query_value(request, "q"), **item_response(item).model_dump())


@router.get("", response_model=list[ItemResponse])
def list_items(request: Request, session: SessionDep) -> list[ItemResponse]:
    skip = parse_digits(first_query_value(request, "skip", "0"))
    limit = parse_digits(first_query_value(request, "limit", str(DEFAULT_LIMIT)))
    if skip is None or limit is None:
        raise ApiError(400, "Invalid skip or limit")
    items: list[Item] = []
    if skip < INT32_MAX:  # ids are INTEGER, so no table holds more rows than that
        query = select(Item).order_by(Item.id).offset(skip).limit(min(limit, MAX_LIMIT))
        items = list(session.scalars(query))
    return [item_response(item) for item in items]
