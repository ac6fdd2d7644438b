"""The PySide6 desktop interface. Widgets see frozen view rows (``ui.views``) and talk to the
service layer only through the ``ui.backend.Backend`` protocol."""

from __future__ import annotations

from ui.backend import Backend
from ui.errors import BackendError
from ui.main_window import MainWindow

__all__ = ["Backend", "BackendError", "MainWindow"]
