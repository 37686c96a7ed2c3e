"""The optional state file: the whole account as one JSON document.

`StateFile.load` reads it at start (a missing file is an empty account; a
corrupt or unreadable one is logged once, moved aside to `<name>.corrupt`
when possible, and the sandbox starts empty). `StateFile.save` writes the
state when its `version` differs from the one last written: to a temporary
file in the same folder (mode 0600), fsync, then `os.replace`, so the file
is always either the old or the new state. The caller holds the state lock,
so writes never interleave. A failed write is logged (once until a write
succeeds) and never fails the request that caused it.
"""
import json
import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger("stripe_sandbox")
FORMAT = "stripe-sandbox-state"
VERSION = 1


class StateFile:
    def __init__(self, path):
        self.path = Path(path)
        self.saved_version = None     # state.version last written (or read)
        self._failing = False

    def load(self, state):
        """Fill `state` from the file if there is one; True if loaded.
        Either way nothing is written until the state changes."""
        loaded = self._read(state)
        with state.lock:
            self.saved_version = state.version
        return loaded

    def _read(self, state):
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return False
        except OSError as exc:
            self._unreadable(f"cannot read it ({exc})")
            return False
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT \
                    or data.get("version") != VERSION:
                raise ValueError(f"not a version {VERSION} {FORMAT} file")
            state.restore(data["state"])
        except Exception as exc:      # noqa: BLE001 - any damage: start empty
            self._unreadable(f"{type(exc).__name__}: {exc}", move_aside=True)
            return False
        return True

    def save(self, state):
        """Write the state if it changed since the last write (caller holds
        the state lock). Returns True if it wrote."""
        if state.version == self.saved_version:
            return False
        version = state.version
        try:
            payload = json.dumps({"format": FORMAT, "version": VERSION,
                                  "saved_at": int(time.time()),
                                  "state": state.snapshot()},
                                 separators=(",", ":")).encode("utf-8")
            self._write(payload)
        except Exception as exc:      # noqa: BLE001 - never fail a request
            if not self._failing:
                log.error("could not write the sandbox state to %s: %s",
                          self.path, exc)
            self._failing = True
            return False
        if self._failing:
            log.info("sandbox state written to %s again", self.path)
        self._failing = False
        self.saved_version = version
        return True

    def _write(self, payload):
        folder = self.path.parent
        folder.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.",
                                    suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        try:                          # make the rename itself durable
            dir_fd = os.open(folder, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        except OSError:
            pass
        finally:
            os.close(dir_fd)

    def _unreadable(self, reason, move_aside=False):
        aside = ""
        if move_aside:
            target = self.path.with_name(self.path.name + ".corrupt")
            try:
                os.replace(self.path, target)
                aside = f"; moved it to {target}"
            except OSError:
                pass
        log.warning("ignoring the sandbox state file %s: %s%s; starting with "
                    "an empty account", self.path, reason, aside)
