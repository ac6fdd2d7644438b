"""Burrow's entry point and composition root."""

from __future__ import annotations

import sys

VERSION = "0.1.0"


def main(argv: list[str]) -> int:
    print(f"Burrow {VERSION}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
