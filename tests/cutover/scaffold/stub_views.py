"""A Flask app of the scaffold's own: Flask-SQLAlchemy on SQLite, blueprints, and views made of
the constructs `cutover scaffold` translates (and a few it cannot), simple to moderate."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Widget(db.Model):  # type: ignore[name-defined,misc]
    """Declared the Flask-SQLAlchemy 3.0 way, so the oldest supported set runs it too."""

    __tablename__ = "widgets"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String, nullable=False)
    colour = db.Column(db.String, nullable=True)
    size = db.Column(db.Integer, nullable=False, default=1)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "colour": self.colour, "size": self.size}


widgets = Blueprint("widgets", __name__, url_prefix="/widgets")
service = Blueprint("service", __name__)


def json_error(message: str, status: int) -> ResponseReturnValue:
    """A helper that needs Flask: `jsonify` outside a view (the draft translates it too)."""
    return jsonify(error=message), status


def widget_or_none(widget_id: int) -> Widget | None:
    """A helper on Flask-SQLAlchemy's session (the draft passes it the session)."""
    return db.session.get(Widget, widget_id)


def wanted_format() -> str:
    """A helper reading the request (the draft passes it the request)."""
    return request.args.get("format", "short")


def visitor() -> str:
    """A helper on Flask's signed session: beyond the translation."""
    return str(session.get("visitor", "nobody"))


@widgets.get("")
def list_widgets() -> ResponseReturnValue:
    limit = request.args.get("limit", 10, type=int)
    offset = request.args.get("offset", 0, type=int)
    found = Widget.query.order_by(Widget.id).offset(offset).limit(limit).all()
    return jsonify([widget.to_dict() for widget in found])


@widgets.get("/<int:widget_id>")
def get_widget(widget_id: int) -> ResponseReturnValue:
    widget = Widget.query.get_or_404(widget_id)
    return jsonify(widget.to_dict())


@widgets.post("")
def create_widget() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return {"error": "a JSON object is required"}, 400
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        return {"error": "name is required"}, 400
    size = data.get("size", 1)
    if not isinstance(size, int) or isinstance(size, bool):
        return {"error": "size must be an integer"}, 400
    widget = Widget(name=name, colour=data.get("colour"), size=size)
    db.session.add(widget)
    db.session.commit()
    location = url_for(".get_widget", widget_id=widget.id)
    return jsonify(widget.to_dict()), 201, {"Location": location}


@widgets.put("/<int:widget_id>")
def update_widget(widget_id: int) -> ResponseReturnValue:
    widget = db.session.get(Widget, widget_id)
    if widget is None:
        abort(404)
    data = request.get_json()
    if "name" in data and not isinstance(data["name"], str):
        return jsonify(error="name must be a string"), 400
    widget.name = data.get("name", widget.name)
    widget.colour = data.get("colour", widget.colour)
    db.session.commit()
    return widget.to_dict()


@widgets.delete("/<int:widget_id>")
def delete_widget(widget_id: int) -> ResponseReturnValue:
    widget = Widget.query.filter_by(id=widget_id).first()
    if widget is None:
        abort(404, description="No such widget.")
    db.session.delete(widget)
    db.session.commit()
    return "", 204


@widgets.get("/count")
def count_widgets() -> ResponseReturnValue:
    colour = request.args.get("colour")
    if colour is not None:
        return {"count": Widget.query.filter_by(colour=colour).count(), "colour": colour}
    return {"count": Widget.query.count(), "colour": None}


@widgets.get("/pages/<int:number>")
def widget_page(number: int) -> ResponseReturnValue:
    query = Widget.query.order_by(Widget.id)
    page = query.paginate(page=number, per_page=2, error_out=False)
    return {"items": [widget.to_dict() for widget in page.items], "pages": page.pages}


@widgets.get("/search")
def search_widgets() -> ResponseReturnValue:
    text = request.args.get("q", "")
    found = Widget.query.filter(Widget.name.contains(text)).order_by(Widget.name).all()
    return jsonify(q=text, results=[widget.to_dict() for widget in found])


@widgets.get("/by-name/<name>")
def widget_by_name(name: str) -> ResponseReturnValue:
    widget = db.first_or_404(db.select(Widget).filter_by(name=name))
    return jsonify(widget.to_dict())


@widgets.get("/<int:widget_id>/links")
def widget_links(widget_id: int) -> ResponseReturnValue:
    widget = db.get_or_404(Widget, widget_id)
    return {
        "self": url_for("widgets.get_widget", widget_id=widget.id),
        "collection": url_for(".list_widgets"),
    }


@service.get("/health")
def health() -> ResponseReturnValue:
    current_app.logger.info("health asked")
    return {"service": current_app.config["SERVICE_NAME"], "status": "ok"}


@service.post("/echo")
def echo() -> ResponseReturnValue:
    g.received = request.get_json()
    g.kind = type(g.received).__name__
    return jsonify(echo=g.received, kind=g.kind, method=request.method)


@service.get("/whoami")
def whoami() -> ResponseReturnValue:
    return {"user": g.user}


@service.get("/page")
def page() -> ResponseReturnValue:
    return render_template_string("<p>{{ n }}</p>", n=Widget.query.count())


@service.get("/refuse")
def refuse() -> ResponseReturnValue:
    return json_error("refused", 403)


@widgets.get("/<int:widget_id>/summary")
def widget_summary(widget_id: int) -> ResponseReturnValue:
    widget = widget_or_none(widget_id)
    if widget is None:
        return json_error("no such widget", 404)
    if wanted_format() == "long":
        return jsonify(widget.to_dict())
    return {"name": widget.name}


@widgets.route("/<int:widget_id>/size", methods=["GET", "POST"])
def widget_size(widget_id: int) -> ResponseReturnValue:
    widget = db.get_or_404(Widget, widget_id)
    if request.method == "POST":
        data = request.get_json(silent=True) or {}
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            return {"error": "size must be a positive integer"}, 400
        widget.size = size
        db.session.commit()
    return {"id": widget.id, "size": widget.size}


@widgets.post("/form")
def create_widget_from_form() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()
    if not name:
        return {"error": "name is required"}, 400
    widget = Widget(name=name, colour=request.form.get("colour"), size=1)
    db.session.add(widget)
    db.session.commit()
    response = make_response(jsonify(widget.to_dict()), 201)
    response.headers["X-Widget-Id"] = str(widget.id)
    return response


@widgets.get("/<int:widget_id>/go")
def go_to_widget(widget_id: int) -> ResponseReturnValue:
    return redirect(url_for(".get_widget", widget_id=widget_id))


@service.get("/visitor")
def who_visits() -> ResponseReturnValue:
    return {"visitor": visitor()}


def create_app(database_url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url, SERVICE_NAME="stub-widgets", SECRET_KEY="stub"
    )
    db.init_app(app)
    app.register_blueprint(widgets)
    app.register_blueprint(service)

    @app.before_request
    def who() -> None:
        g.user = request.headers.get("X-User", "anonymous")

    with app.app_context():
        db.create_all()
    return app
