"""An SMTP server on loopback that keeps every message it accepts as a file.

Run as its own process (aiosmtpd's asyncio loop and eventlet's patched
sockets do not mix): `python -m tests.support.smtp_capture PORT DIRECTORY`."""
import sys
import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller


class KeepMessages:
    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:6]}.eml"
        tmp = self.directory / (name + ".tmp")
        tmp.write_bytes(envelope.original_content)
        tmp.rename(self.directory / name)
        return "250 Message accepted for delivery"


def main() -> None:
    port, directory = int(sys.argv[1]), Path(sys.argv[2])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepMessages(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin or kills us
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
