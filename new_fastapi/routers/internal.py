"""A pass-through to the upstream data service, with its failures mapped to 502s."""

from typing import Any

import httpx
from fastapi import APIRouter

from cutover.compat import ApiError, LegacyJSONResponse
from new_fastapi.deps import HttpClientDep, SettingsDep

router = APIRouter(tags=["internal"])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@router.get("/fetch-data")
async def fetch_data(client: HttpClientDep, settings: SettingsDep) -> LegacyJSONResponse:
    try:
        upstream = await client.get(settings.upstream_url)
    except httpx.TimeoutException:
        raise ApiError(502, "Upstream timed out") from None
    except httpx.HTTPError:
        raise ApiError(502, "Upstream unavailable") from None
    if not upstream.is_success:
        raise ApiError(502, "Upstream error")
    try:
        # NaN and Infinity are Python's extensions, not JSON; passing them on would break clients.
        data = upstream.json(parse_constant=_reject_constant)
    except ValueError:
        raise ApiError(502, "Upstream returned invalid JSON") from None
    return LegacyJSONResponse(data)
