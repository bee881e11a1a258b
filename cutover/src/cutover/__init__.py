"""cutover: serve a legacy WSGI app and its FastAPI ports behind one ASGI app."""

from cutover.gateway import Gateway
from cutover.inventory import Inventory, InventoryRow, TypeConflict

__all__ = ["Gateway", "Inventory", "InventoryRow", "TypeConflict"]
