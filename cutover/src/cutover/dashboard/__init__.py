"""The migration's dashboard at `{prefix}/`: progress, routes, shadow evidence, history and
controls, server-rendered for whoever logs in with the admin token (`Dashboard`)."""

from cutover.dashboard.app import Dashboard

__all__ = ["Dashboard"]
