"""Broadcast handlers: every running copy hears the event, and after any
(re)connection to the broker — when broadcasts sent meanwhile are lost with
the copy's auto-deleted queue — the handler is told to forget everything."""
import json

from kombu import Connection, Exchange, Producer

import contracts
from servicekit.events import broadcast
from tests.support.processes import wait_until

HEARD: list = []


class Listener:
    name = "listener"

    @broadcast("clients", "OrganizationChanged")
    def forget(self, data):
        HEARD.append(data)


def announce(amqp_uri, part):
    envelope = contracts.make_envelope("clients", "OrganizationChanged", {"part": part}, 1)
    with Connection(amqp_uri) as connection:
        Producer(connection.default_channel).publish(
            json.dumps(envelope), exchange=Exchange("clients.events", type="topic", durable=True),
            routing_key="OrganizationChanged", content_type="application/json",
            declare=[Exchange("clients.events", type="topic", durable=True)])


def test_a_copy_hears_broadcasts_and_forgets_everything_after_a_reconnect(
        container_factory, rabbit_config, rabbit_manager):
    HEARD.clear()
    container_factory(Listener, rabbit_config).start()
    wait_until(lambda: HEARD == [None], timeout=5, what="the first connection")   # start: empty
    announce(rabbit_config["AMQP_URI"], "location")
    wait_until(lambda: {"part": "location"} in HEARD, timeout=5, what="the broadcast")

    def drop_the_copys_connections():   # as a broker restart would (the list lags a little)
        names = [c["name"] for c in rabbit_manager.get_connections()
                 if c["vhost"] == rabbit_config["vhost"]]
        for name in names:
            rabbit_manager.delete_connection(name)
        return names
    wait_until(drop_the_copys_connections, timeout=15, what="the copy's connection to show")
    wait_until(lambda: HEARD.count(None) == 2, timeout=20, what="the reconnection")
    announce(rabbit_config["AMQP_URI"], "handbook")
    wait_until(lambda: {"part": "handbook"} in HEARD, timeout=5, what="a broadcast after it")
