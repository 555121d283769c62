"""What a benchmark ran on: CPU model, cores, memory, OS and Python, read from the system."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "os": platform.platform(),
    }


def one_line(extra: dict[str, str] | None = None) -> str:
    info = {**describe(), **(extra or {})}
    return ", ".join(f"{key} {value}" for key, value in info.items())
