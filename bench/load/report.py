"""The markdown report of `make load`: the floors, each page alone, and each
area at every load, next to the floor of the same run and the targets."""
from __future__ import annotations

from phases import Result

CPU_TARGET_MS = 8.0
P95_TARGETS_MS = {20: 50.0, 100: 100.0}     # sessions with 1 s think time → p95
CAIRN = ["portal-gateway", "clients", "invoicing", "payments", "notifications"]
FLOOR = ["floor_http", "floor_rpc"]
SHARED = ["RabbitMQ", "PostgreSQL"]
COLUMNS = CAIRN + SHARED + ["PG backends"]     # the last is part of PostgreSQL, shown apart
SHORT = {"portal-gateway": "gateway", "notifications": "notif.", "PostgreSQL": "PG",
         "PG backends": "PG, own backends", "floor_http": "http", "floor_rpc": "rpc"}


def percentile(ordered: list[float], q: float) -> float | None:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def ms(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def serving(result: Result) -> list[str]:
    return (FLOOR if result.phase.group == "floor" else CAIRN) + SHARED


def total_cpu(result: Result) -> float:
    """CPU ms per request over the serving processes, RabbitMQ and PostgreSQL
    (the load generator excluded)."""
    return sum(result.per_request(name) for name in serving(result))


def own_pg_total(result: Result) -> float:
    """total_cpu with PostgreSQL's share cut to the backends on our own
    databases: what is left when someone else is busy on the shared server."""
    return total_cpu(result) - result.per_request("PostgreSQL") + result.per_request("PG backends")


def generator_load(result: Result) -> str:
    """The load generator's CPU as a share of one core: near 100 % it is
    the bottleneck, not Cairn."""
    return f"{result.cpu_ms['load generator'] / result.window / 10:.0f} %"


def idle_line(result: Result) -> str:
    shown = serving(result) + ([] if result.phase.group == "floor" else ["PG backends"])
    rates = ", ".join(f"{SHORT.get(n, n)} {result.idle.get(n, 0):.0f}" for n in shown)
    return f"Idle, no requests (CPU ms/s): {rates}."


def others(result: Result) -> str:
    return "{} / {}".format(*result.others)


def unaccounted(result: Result) -> float:
    """Machine CPU (ms/s) that no counted process explains: this runner,
    the OS, anyone else's work on the box."""
    counted = sum(v for k, v in result.cpu_ms.items() if k not in ("machine", "PG backends"))
    return (result.cpu_ms["machine"] - counted) / result.window


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def latency_cells(result: Result, page: str | None = None) -> list[str]:
    ordered = result.latencies(page)
    return [ms(percentile(ordered, q)) for q in (0.50, 0.95, 0.99)]


def floor_for(floors: list[Result], rpcs: int, sessions: int) -> Result | None:
    """The floor with `rpcs` RPCs at the nearest concurrency measured."""
    same = [f for f in floors if f.phase.label == rpc_label(rpcs)]
    return min(same, key=lambda f: abs(f.phase.sessions - sessions), default=None)


def rpc_label(rpcs: int) -> str:
    return f"{rpcs} RPC" + ("" if rpcs == 1 else "s")


def floors_section(floors: list[Result]) -> str:
    header = ["handler", "sessions", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              *[SHORT.get(n, n) for n in FLOOR + SHARED], "total CPU ms/req", "generator, core",
              "unaccounted ms/s", "others RMQ / PG"]
    rows = [[f"@http + {f.phase.label}", str(f.phase.sessions), f"{f.rate:.0f}", *latency_cells(f),
             str(f.errors), *[ms(f.per_request(n), 2) for n in FLOOR + SHARED],
             f"**{ms(total_cpu(f), 2)}**", generator_load(f), f"{unaccounted(f):.0f}", others(f)]
            for f in floors]
    return "## Floor: bare nameko `@http` GET + N sequential trivial RPCs (closed loop)\n\n" + \
        (idle_line(floors[0]) + "\n\n" if floors else "") + table(header, rows)


def pages_section(results: list[Result], floors: list[Result], target_rpcs: int) -> str:
    header = ["page", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              *[SHORT.get(n, n) for n in COLUMNS], "total CPU ms/req",
              f"≤ {CPU_TARGET_MS:g} ms", "total, own PG backends", f"floor {rpc_label(target_rpcs)} ms/req",
              "× floor", "new PG conn/s", "unaccounted ms/s", "others RMQ / PG"]
    rows = []
    for r in results:
        floor = floor_for(floors, target_rpcs, r.phase.sessions)
        rows.append([r.phase.label, f"{r.rate:.0f}", *latency_cells(r), str(r.errors),
                     *[ms(r.per_request(n), 2) for n in COLUMNS],
                     f"**{ms(total_cpu(r), 2)}**", verdict(total_cpu(r) <= CPU_TARGET_MS),
                     ms(own_pg_total(r), 2), ms(floor and total_cpu(floor), 2), times(r, floor),
                     f"{r.pg_connections / r.window:.1f}", f"{unaccounted(r):.0f}", others(r)])
    sessions = results[0].phase.sessions if results else 0
    return f"## Each page alone ({sessions} sessions, closed loop)\n\n" + \
        (idle_line(results[0]) + "\n\n" if results else "") + table(header, rows)


def times(result: Result, floor: Result | None) -> str:
    return f"{total_cpu(result) / total_cpu(floor):.1f}×" if floor and total_cpu(floor) else "–"


def area_section(area: str, results: list[Result], floors: list[Result], target_rpcs: int) -> str:
    header = ["load", "sessions", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
              *[SHORT.get(n, n) for n in COLUMNS], "total CPU ms/req",
              f"≤ {CPU_TARGET_MS:g} ms", "total, own PG backends",
              f"floor {rpc_label(target_rpcs)}: req/s · CPU ms/req", "CPU × floor", "p95 target",
              "new PG conn/s", "generator, core", "unaccounted ms/s", "others RMQ / PG"]
    rows = [_area_row(r, floor_for(floors, target_rpcs, r.phase.sessions)) for r in results]
    return f"## {area.capitalize()} area, pages in turn\n\n" + idle_line(results[0]) + "\n\n" + \
        table(header, rows) + "\n\n" + _per_page_p95(results)


def _area_row(r: Result, floor: Result | None) -> list[str]:
    think = r.phase.think > 0
    target = P95_TARGETS_MS.get(r.phase.sessions) if think else None
    p95 = percentile(r.latencies(), 0.95)
    floor_cells = "–" if floor is None else f"{floor.rate:.0f} · {total_cpu(floor):.2f}" + (
        f" (at {floor.phase.sessions})" if floor.phase.sessions != r.phase.sessions else "")
    return [f"{r.phase.think:g} s think" if think else "closed loop", str(r.phase.sessions),
            f"{r.rate:.0f}", *latency_cells(r), str(r.errors),
            *[ms(r.per_request(n), 2) for n in COLUMNS], f"**{ms(total_cpu(r), 2)}**",
            verdict(total_cpu(r) <= CPU_TARGET_MS), ms(own_pg_total(r), 2), floor_cells,
            times(r, floor),
            "–" if target is None else f"≤ {target:g} ms: {verdict(p95 is not None and p95 <= target)}",
            f"{r.pg_connections / r.window:.1f}", generator_load(r), f"{unaccounted(r):.0f}",
            others(r)]


def _per_page_p95(results: list[Result]) -> str:
    names = list(dict.fromkeys(name for r in results for name in r.pages))
    header = ["p95 ms (errors)", *[_load_name(r) for r in results]]
    rows = [[name, *[f"{ms(percentile(r.latencies(name), 0.95))} ({r.pages.get(name, {}).get('errors', 0)})"
                     if name in r.pages else "–" for r in results]] for name in names]
    return table(header, rows)


def _load_name(r: Result) -> str:
    return f"{r.phase.sessions} × {r.phase.think:g} s think" if r.phase.think else \
        f"{r.phase.sessions} closed"


def errors_section(results: list[Result]) -> str:
    lines = []
    for r in results:
        for name, page in r.pages.items():
            for sample in page["error_samples"][:2]:
                lines.append(f"- {r.phase.group} {r.phase.label} ({_load_name(r)}), {name}: {sample}")
    return "## Error samples\n\n" + ("\n".join(lines) if lines else "None.")


def summary(pages: list[Result], areas: list[Result]) -> str:
    judged = pages or [r for r in areas if not r.phase.think]   # each page alone, else each area
    over = list(dict.fromkeys(f"{r.phase.label} {total_cpu(r):.1f} ms" for r in judged
                              if total_cpu(r) > CPU_TARGET_MS))
    think = [r for r in areas if r.phase.think > 0 and r.phase.sessions in P95_TARGETS_MS]
    slow = []
    for r in think:
        p95 = percentile(r.latencies(), 0.95)
        if p95 is None or p95 > P95_TARGETS_MS[r.phase.sessions]:
            slow.append(f"{r.phase.label} at {r.phase.sessions}: {ms(p95, 0)} ms")
    errors = sum(r.errors for r in pages + areas)
    return "\n".join([
        "## Targets",
        "",
        f"- CPU ≤ {CPU_TARGET_MS:g} ms per request, every page: "
        + ("not measured" if not judged else verdict(not over))
        + (f" — over: {', '.join(over)}" if over else ""),
        "- 1 s think time, p95 ≤ 50 ms at 20 sessions and ≤ 100 ms at 100: "
        + ("not measured" if not think else verdict(not slow))
        + (f" — missed: {', '.join(slow)}" if slow else ""),
        f"- 0 errors: {verdict(errors == 0)} ({errors} in all phases)"])
