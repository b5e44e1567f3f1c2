"""CPU time of the stack's processes, read from /proc, for the benchmarks' per-unit CPU figures.

Each thread's run time comes from /proc/PID/task/TID/schedstat in nanoseconds: the clock ticks of
/proc/PID/stat (10 ms) are coarser than what a small run costs a process such as Deno. Where the
kernel keeps no schedstat the ticks are the fallback. Threads and processes that already exited
count in neither figure; `CpuMeter` charges each process its own difference over a run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    command: str


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and parens)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds `pid` has used, all its live threads together; 0 when it is gone."""
    try:
        return (
            sum(
                int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
                for tid in os.listdir(f"/proc/{pid}/task")
            )
            / 1e9
        )
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, Process]:
    """Every process this user can read, by pid."""
    table: dict[int, Process] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            parent = int(_stat_fields(pid)[1])
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        table[pid] = Process(pid, parent, command.replace(b"\0", b" ").decode(errors="replace"))
    return table


def tree(root: int | None, table: dict[int, Process]) -> list[Process]:
    """`root` and all its descendants in `table`; empty when `root` is not running."""
    children: dict[int, list[Process]] = {}
    for process in table.values():
        children.setdefault(process.parent, []).append(process)
    found: list[Process] = []
    todo = [table[root]] if root in table else []
    while todo:
        process = todo.pop()
        found.append(process)
        todo.extend(children.get(process.pid, []))
    return found


Groups = Callable[[], dict[str, list[int]]]


@dataclass
class CpuMeter:
    """CPU seconds each named group of processes used between `start()` and `stop()`.

    `groups` is asked again at each reading and every process is charged its own difference, so a
    PostgreSQL backend or Deno worker that started in between counts from zero (not what it had
    used before the window it never was in), and one that exited counts nothing (rather than
    minus what it had used).
    """

    groups: Groups
    _start: dict[int, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._start = {pid: cpu_seconds(pid) for pids in self.groups().values() for pid in pids}

    def stop(self) -> dict[str, float]:
        self.used = {
            name: sum(max(0.0, cpu_seconds(pid) - self._start.get(pid, 0.0)) for pid in pids)
            for name, pids in self.groups().items()
        }
        return self.used
