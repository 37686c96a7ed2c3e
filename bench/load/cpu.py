"""CPU time from /proc, in milliseconds: per named process, RabbitMQ,
PostgreSQL and the whole machine. A measurement is the difference of two
snapshots taken at the edges of a phase's window."""
from __future__ import annotations

import os
from pathlib import Path

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, list[int]] | None:
    """(comm, ppid, [utime, stime, cutime, cstime] in ticks) or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()   # fields[0] is field 3 (state)
    return comm, int(fields[1]), [int(v) for v in fields[11:15]]


def process_ms(pid: int) -> float:
    """The process's own time plus its reaped children's."""
    found = _stat(pid)
    return sum(found[2]) * TICK_MS if found else 0.0


def _all() -> dict[int, tuple[str, int, list[int]]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                found[int(entry.name)] = stat
    return found


def postgres_ms(processes: dict) -> float:
    """The postmaster's own time and its exited backends' (cutime/cstime:
    the postmaster reaps them), plus every live backend's own time. A backend
    that exits between the two reads of one snapshot is off by its lifetime."""
    total = 0.0
    for pid, (comm, ppid, times) in processes.items():
        if comm != "postgres":
            continue
        parent = processes.get(ppid)
        is_postmaster = parent is None or parent[0] != "postgres"
        total += sum(times if is_postmaster else times[:2]) * TICK_MS
    return total


def backends_ms(processes: dict, databases: list[str]) -> dict[int, float]:
    """Each live backend connected to one of `databases` (its process title
    names the database): pid → its own CPU ms so far."""
    wanted, found = set(databases), {}
    for pid, (comm, _, times) in processes.items():
        if comm == "postgres" and wanted:
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if wanted.intersection(title):
                found[pid] = sum(times[:2]) * TICK_MS
    return found


def rabbitmq_ms(processes: dict) -> float:
    return sum(sum(times) * TICK_MS for comm, _, times in processes.values() if comm == "beam.smp")


def machine_ms() -> float:
    """Busy time of all cores: user, nice, system, irq, softirq, steal."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) * TICK_MS


def snapshot(named: dict[str, int], databases: list[str] = ()) -> dict:
    """CPU ms so far of each named pid, RabbitMQ, PostgreSQL, the backends
    on `databases` (by pid) and the machine."""
    processes = _all()
    taken = {name: process_ms(pid) for name, pid in named.items()}
    taken["RabbitMQ"] = rabbitmq_ms(processes)
    taken["PostgreSQL"] = postgres_ms(processes)
    taken["backends"] = backends_ms(processes, list(databases))
    taken["machine"] = machine_ms()
    return taken


def difference(before: dict, after: dict) -> dict[str, float]:
    """CPU ms spent between two snapshots. "PG backends" counts only our
    databases' backends alive at the end: the pool's connections exactly,
    one that came and went inside the window not at all."""
    spent = {name: after[name] - before[name] for name in before if name != "backends"}
    spent["PG backends"] = sum(ms - before["backends"].get(pid, 0.0)
                               for pid, ms in after["backends"].items())
    return spent
