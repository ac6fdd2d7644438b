"""The headless command line: a second front end over ``app`` (``python main.py cli``)."""

from __future__ import annotations

from cli.main import main

__all__ = ["main"]
