"""The benchmarks' CPU reader: exact enough for a few milliseconds, whole process trees."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from halo_supabase.bench.cpu import CpuMeter, cpu_seconds, processes, tree

# Burns about 3 ms of CPU, far less than one 10 ms clock tick, then waits to be read.
BURN = (
    "import sys, time\n"
    "end = time.thread_time() + 0.003\n"
    "while time.thread_time() < end: pass\n"
    "print('done', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_few_milliseconds_of_work_are_counted_not_rounded_away() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"done\n"
        before = cpu_seconds(child.pid)
        time.sleep(0.05)  # idle: the figure must not move
        after = cpu_seconds(child.pid)
        # Python's start-up plus the 3 ms loop, in nanoseconds: a figure counted in clock ticks
        # would be a whole number of hundredths of a second.
        assert before > 0.003
        assert before != round(before, 2)
        assert after - before < 0.002
    finally:
        child.communicate(b"")


def test_a_process_that_is_gone_has_used_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert cpu_seconds(child.pid) == 0.0


def test_a_tree_holds_the_root_and_every_descendant() -> None:
    # A shell that starts a sleeping grandchild: both belong to the shell's tree.
    child = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    found = []
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = tree(child.pid, processes())
            if len(found) == 2:
                break
            time.sleep(0.02)
        assert found[0].pid == child.pid
        assert any(p.command.startswith("sleep 30") and p.parent == child.pid for p in found)
        assert tree(None, processes()) == []
    finally:
        for process in found[1:]:
            subprocess.run(["kill", str(process.pid)], check=False)
        child.kill()
        child.wait()


def test_a_meter_charges_each_process_its_own_difference() -> None:
    started: list[subprocess.Popen[bytes]] = []

    def burner() -> subprocess.Popen[bytes]:
        child = subprocess.Popen(
            [sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert child.stdout is not None and child.stdout.readline() == b"done\n"
        started.append(child)
        return child

    early, leaving = burner(), burner()
    meter = CpuMeter(
        lambda: {
            "early": [early.pid],
            "late": [p.pid for p in started[2:]],
            "leaving": [leaving.pid],
        }
    )
    try:
        meter.start()
        leaving.communicate(b"")  # exits inside the window
        late = burner()  # starts inside it: all its CPU was spent in the window
        used = meter.stop()
        assert used["early"] < 0.002  # idle all along
        assert (
            used["late"] == pytest.approx(cpu_seconds(late.pid), abs=0.002) and used["late"] > 0.003
        )
        assert used["leaving"] == 0.0  # gone: nothing, not minus what it had used
    finally:
        for child in started:
            if child.poll() is None:
                child.communicate(b"")
