"""cutover: serve a legacy WSGI app and its FastAPI ports behind one ASGI app."""

from cutover.gateway import Gateway
from cutover.inventory import Inventory, InventoryRow, TypeConflict
from cutover.settings import GatewaySettings
from cutover.wsgi import WorkerPool, WSGIBridge

__all__ = [
    "Gateway",
    "GatewaySettings",
    "Inventory",
    "InventoryRow",
    "TypeConflict",
    "WSGIBridge",
    "WorkerPool",
]
