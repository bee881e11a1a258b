"""Request and response shapes; strict, because the legacy app rejected what lax mode coerces."""

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from cutover.compat import FlaskDateTime
from new_fastapi.validation import LegacyEmail, Price, RequiredText, Text

USERNAME_MAX = 80
TITLE_MAX = 200
NAME_MAX = 200
AGE_MIN, AGE_MAX = 0, 150


class StrictInput(BaseModel):
    """Input as the legacy views checked it: no coercion, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class UserCreate(StrictInput):
    username: Annotated[RequiredText, Field(max_length=USERNAME_MAX)]
    email: Annotated[EmailStr, LegacyEmail]
    password: RequiredText
    age: Annotated[int, Field(ge=AGE_MIN, le=AGE_MAX)] | None = None


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    age: int | None
    created_at: FlaskDateTime
    email: str
    id: int
    username: str


class PageMeta(BaseModel):
    page: int
    pages: int
    per_page: int
    total: int


class UserPage(PageMeta):
    users: list[UserResponse]


class TokenResponse(BaseModel):
    expires_at: FlaskDateTime
    token: str


class NoteCreate(StrictInput):
    title: Annotated[RequiredText, Field(max_length=TITLE_MAX)]
    body: Text = ""


class NoteUpdate(StrictInput):
    """Only the fields sent are changed; `version` is the one the client last saw."""

    version: int
    title: Annotated[RequiredText, Field(max_length=TITLE_MAX)] = ""
    body: Text = ""


class NoteResponse(BaseModel):
    body: str
    created_at: FlaskDateTime
    deleted: bool
    id: int
    title: str
    updated_at: FlaskDateTime
    version: int


class NoteChanges(BaseModel):
    changes: list[NoteResponse]
    cursor: str


class PostCreate(StrictInput):
    title: Annotated[RequiredText, Field(max_length=TITLE_MAX)]
    body: Text = ""
    published: bool = False


class PostUpdate(StrictInput):
    """Only the fields sent are changed."""

    title: Annotated[RequiredText, Field(max_length=TITLE_MAX)] = ""
    body: Text = ""
    published: bool = False


class PostResponse(BaseModel):
    author: str
    author_id: int
    body: str
    created_at: FlaskDateTime
    id: int
    published: bool
    title: str
    updated_at: FlaskDateTime


class PostPage(PageMeta):
    posts: list[PostResponse]


class ItemCreate(StrictInput):
    name: Annotated[RequiredText, Field(max_length=NAME_MAX)]
    price: Price
    is_available: bool = True
    tags: list[Text] = Field(default_factory=list)


class ItemResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    is_available: bool
    name: str
    price: Decimal
    tags: list[str]


class ItemWithQuery(ItemResponse):
    q: str | None


class Message(BaseModel):
    message: str


class Stats(BaseModel):
    items: int
    posts: int
    users: int


COMMENT_MAX = 500


class CommentCreate(StrictInput):
    body: Annotated[RequiredText, Field(max_length=COMMENT_MAX)]


class CommentResponse(BaseModel):
    author: str
    author_id: int
    body: str
    created_at: FlaskDateTime
    id: int
    post_id: int


class CommentList(BaseModel):
    comments: list[CommentResponse]
    total: int
