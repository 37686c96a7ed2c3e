"""The per-process TTL cache behind the gateway's session checks and the
organization: values expire, drops win over answers that were on their way."""
from servicekit.cache import MISSING, TtlCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_value_lives_for_its_ttl_only():
    clock = Clock()
    cache = TtlCache(ttl=15, clock=clock)
    cache.put("s1", {"subject_id": "st_1"})
    clock.now += 14.9
    assert cache.get("s1") == {"subject_id": "st_1"}
    clock.now += 0.2
    assert cache.get("s1") is MISSING and len(cache) == 0


def test_drops_by_key_and_by_what_the_value_says():
    cache = TtlCache(ttl=15)
    for key, subject in (("a", "pa_1"), ("b", "pa_1"), ("c", "pa_2")):
        cache.put(key, {"subject_id": subject})
    cache.drop_where(lambda s: s["subject_id"] == "pa_1")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (MISSING, MISSING, {"subject_id": "pa_2"})
    cache.drop("c")
    assert cache.get("c") is MISSING


def test_an_answer_loaded_before_a_drop_is_not_kept():
    cache = TtlCache(ttl=15)
    asked_at = cache.generation           # a session check goes out…
    cache.drop("s1")                      # …the session ends meanwhile…
    cache.put("s1", {"live": True}, loaded_at=asked_at)   # …and the old answer arrives
    assert cache.get("s1") is MISSING
    asked_at = cache.generation
    cache.put("s1", {"live": True}, loaded_at=asked_at)
    assert cache.get("s1") == {"live": True}


def test_the_oldest_entries_go_beyond_the_limit_and_zero_ttl_keeps_nothing():
    cache = TtlCache(ttl=15, max_entries=2)
    for key in "abc":
        cache.put(key, key)
    assert (cache.get("a"), cache.get("c")) == (MISSING, "c")
    off = TtlCache(0, 0)
    assert off.get_or_load("org", lambda: {"name": "Cedar Ridge"}) == {"name": "Cedar Ridge"}
    assert off.get("org") is MISSING
