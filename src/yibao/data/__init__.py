"""Demo and policy data shipped in the package (illustrative figures; see README.md here)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def demo_path(*parts: str) -> Path:
    """A path inside the packaged data folder, e.g. ``demo_path("policies")``."""
    return _HERE.joinpath(*parts)
