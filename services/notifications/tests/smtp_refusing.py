"""An SMTP server on loopback that answers every RCPT with a fixed reply, to
see how the mailer takes a refusal over a real socket.

    python smtp_refusing.py PORT "550 5.1.1 <{address}>: Recipient address rejected"
"""
import sys

from aiosmtpd.controller import Controller


class Refuse:
    def __init__(self, reply: str):
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply.format(address=address)


def main() -> None:
    port, reply = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Refuse(reply), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
