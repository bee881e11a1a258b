"""allowed_methods lists what Flask would for a path, the mount point stripped as Starlette does."""

from fastapi import FastAPI

from cutover.compat import allowed_methods


def test_root_path_is_stripped_only_at_a_segment_boundary() -> None:
    app = FastAPI()

    @app.get("/res")
    async def res() -> None: ...

    @app.post("/apiary")
    async def apiary() -> None: ...

    def at(path: str) -> set[str]:
        return allowed_methods(app.router.routes, {"path": path, "root_path": "/api"})

    assert at("/api/res") == {"GET", "HEAD", "OPTIONS"}
    assert at("/apiary") == {"POST", "OPTIONS"}  # "/api" is no mount of "/apiary"
