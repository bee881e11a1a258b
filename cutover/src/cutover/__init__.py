"""cutover: serve a legacy WSGI app and its FastAPI ports behind one ASGI app."""

from cutover.control.modes import Mode, RouteMode, default_mode
from cutover.control.store import StateStore
from cutover.gateway import Gateway
from cutover.inventory import Inventory, InventoryRow, TypeConflict
from cutover.settings import GatewaySettings
from cutover.wsgi import WorkerPool, WSGIBridge

__all__ = [
    "Gateway",
    "GatewaySettings",
    "Inventory",
    "InventoryRow",
    "Mode",
    "RouteMode",
    "StateStore",
    "TypeConflict",
    "WSGIBridge",
    "WorkerPool",
    "default_mode",
]
