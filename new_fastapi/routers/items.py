"""The item catalogue; item creation also takes HTML-form posts."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from cutover.compat import ApiError, first_query_value, flask_args, flask_form
from new_fastapi import crud, reads
from new_fastapi.database import Database
from new_fastapi.deps import DatabaseDep, FlaskJSON, documented_body, validate_body
from new_fastapi.direct import DirectRoute
from new_fastapi.messages import NO_DATA
from new_fastapi.schemas import ItemCreate, ItemResponse, ItemWithQuery
from new_fastapi.validation import parse_digits

router = APIRouter(prefix="/items", tags=["items"])

DEFAULT_LIMIT = 10
FORM_BOOLEANS = {"true": True, "false": False}


async def submitted_item(request: Request, data: FlaskJSON) -> ItemCreate:
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
async def create_item(
    payload: Annotated[ItemCreate, Depends(submitted_item)], db: DatabaseDep, response: Response
) -> ItemResponse:
    item = await db.run(crud.create_item, payload)
    response.headers["Location"] = f"/items/{item.id}"
    return item


async def get_item(item_id: int, request: Request) -> Response:
    db: Database = request.app.state.database
    return await db.read(reads.get_item, item_id, first_query_value(request, "q"))


async def list_items(request: Request) -> Response:
    args = flask_args(request)
    skip = parse_digits(args.get("skip", "0"))
    limit = parse_digits(args.get("limit", str(DEFAULT_LIMIT)))
    if skip is None or limit is None:
        raise ApiError(400, "Invalid skip or limit")
    db: Database = request.app.state.database
    return await db.read(reads.list_items, skip, limit)


# The reads answer the legacy bytes themselves (new_fastapi.reads); the models document them.
router.add_api_route(
    "/{item_id:int}",
    get_item,
    methods=["GET"],
    response_model=ItemWithQuery,
    route_class_override=DirectRoute,
)
router.add_api_route(
    "",
    list_items,
    methods=["GET"],
    response_model=list[ItemResponse],
    route_class_override=DirectRoute,
)
