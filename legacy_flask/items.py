"""The item catalogue; item creation also takes HTML-form posts."""

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from legacy_flask.errors import json_error
from legacy_flask.extensions import db
from legacy_flask.lookup import INT32_MAX, get_by_id
from legacy_flask.serializers import item_to_dict
from legacy_flask.validation import is_blank, is_text, json_object, parse_digits, parse_price
from shared_models import Item

bp = Blueprint("items", __name__, url_prefix="/items")

NAME_MAX = 200
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
FORM_BOOLEANS = {"true": True, "false": False}


def _submitted_item() -> dict[str, Any] | None:
    """The posted fields from a JSON object or, failing that, an urlencoded/multipart form."""
    data = json_object()
    if data is not None:
        return data
    if not request.form:
        return None
    form: dict[str, Any] = {"tags": request.form.getlist("tags")}
    for name in ("name", "price"):
        if name in request.form:
            form[name] = request.form[name]
    if "is_available" in request.form:
        # Anything but "true"/"false" stays a string and fails the bool check below.
        raw = request.form["is_available"]
        form["is_available"] = FORM_BOOLEANS.get(raw, raw)
    return form


@bp.post("")
def create_item() -> ResponseReturnValue:
    data = _submitted_item()
    if data is None:
        return json_error("No data provided", 400)
    name, price, tags = data.get("name"), data.get("price"), data.get("tags", [])
    is_available = data.get("is_available", True)
    if is_blank(name) or is_blank(price):
        return json_error("Missing required fields", 400)
    if not (
        is_text(name)
        and isinstance(is_available, bool)
        and isinstance(tags, list)
        and all(is_text(tag) for tag in tags)
    ):
        return json_error("Invalid field types", 400)
    if len(name) > NAME_MAX:
        return json_error("Name too long", 400)
    parsed_price = parse_price(price)
    if parsed_price is None:
        return json_error("Invalid price", 400)
    item = Item(name=name, price=parsed_price, is_available=is_available, tags=tags)
    db.session.add(item)
    db.session.commit()
    return jsonify(item_to_dict(item)), 201, {"Location": url_for(".get_item", item_id=item.id)}


@bp.get("/<int:item_id>")
def get_item(item_id: int) -> ResponseReturnValue:
    item = get_by_id(Item, item_id)
    if item is None:
        return json_error("Item not found", 404)
    return jsonify(q=request.args.get("q"), **item_to_dict(item))


@bp.get("")
def list_items() -> ResponseReturnValue:
    skip = parse_digits(request.args.get("skip", "0"))
    limit = parse_digits(request.args.get("limit", str(DEFAULT_LIMIT)))
    if skip is None or limit is None:
        return json_error("Invalid skip or limit", 400)
    items: list[Item] = []
    if skip < INT32_MAX:  # ids are INTEGER, so no table holds more rows than that
        query = select(Item).order_by(Item.id).offset(skip).limit(min(limit, MAX_LIMIT))
        items = list(db.session.scalars(query))
    return jsonify([item_to_dict(item) for item in items])
