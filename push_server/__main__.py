"""``python -m push_server``: see ``push_server.main``."""

from __future__ import annotations

import sys

from push_server.main import main

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
