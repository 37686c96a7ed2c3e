"""The load generator for one phase of `make load`: Locust users that each
carry one signed-in session and walk their pages in turn, closed loop (no
think time) or with a fixed think time.

Runs as its own process, never imported by the runner: Locust is gevent, and
gevent must never meet eventlet. The runner starts it as

    python bench/load/locustfile.py SPEC.json

SPEC holds the host, the sessions, the pages, warm-up and window lengths and
where to write the result. It prints `measuring` when the warm-up ends and
`measured` when the window closes, so the runner can sample CPU at those
instants; only requests that complete inside the window are recorded.
"""
from __future__ import annotations

import locust  # noqa: F401  (first: Locust monkey-patches with gevent on import)

import itertools  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402

SPEC: dict = {}
IDENTITIES: itertools.count = itertools.count()


class Recorder:
    """Latencies (ms) of rendered pages and error counts, per page, while on."""

    def __init__(self):
        self.on = False
        self.pages: dict[str, dict] = {}

    def record(self, name, response_time, exception, **_):
        if not self.on:
            return
        page = self.pages.setdefault(name, {"ok": [], "errors": 0, "error_samples": []})
        if exception is None:
            page["ok"].append(round(response_time, 3))
            return
        page["errors"] += 1
        if len(page["error_samples"]) < 5:
            page["error_samples"].append(str(exception)[:200])


class PageUser(FastHttpUser):
    """One person: their own cookie, their own client and invoice."""
    abstract = True

    def on_start(self):
        number = next(IDENTITIES)
        me = SPEC["users"][number % len(SPEC["users"])]
        self.headers = {"Cookie": me["cookie"]} if me["cookie"] else {}
        self.pages = [(p["name"], p["path"].format(**me["vars"]), p["marker"].format(**me["vars"]))
                      for p in SPEC["pages"]]
        self.turn = number   # each user starts at a different page
        # people do not arrive in step: with think time, each session starts
        # at a random point of one think interval, or they would march in bursts
        gevent.sleep(random.uniform(0, SPEC["think"]))

    @task
    def visit(self):
        name, path, marker = self.pages[self.turn % len(self.pages)]
        self.turn += 1
        with self.client.get(path, name=name, headers=self.headers, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code} {response.headers.get('Location', '')}")
            elif marker not in (response.text or ""):
                response.failure("200 but the page did not render its content")


def user_class(think: float) -> type:
    return type("Session", (PageUser,), {"wait_time": constant(think), "abstract": False})


def run(spec: dict) -> dict:
    SPEC.update(spec)
    recorder = Recorder()
    env = Environment(user_classes=[user_class(spec["think"])], host=spec["host"])
    env.events.request.add_listener(recorder.record)
    runner = env.create_local_runner()
    runner.start(spec["sessions"], spawn_rate=min(spec["sessions"], 100))
    gevent.sleep(spec["warmup"])
    print("measuring", flush=True)
    started, recorder.on = time.perf_counter(), True
    gevent.sleep(spec["duration"])
    recorder.on, window = False, time.perf_counter() - started
    print("measured", flush=True)
    runner.quit()
    return {"window": window, "pages": recorder.pages}


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        phase = json.load(handle)
    result = run(phase)
    with open(phase["result"], "w") as handle:
        json.dump(result, handle)
