"""The gateway in a nameko container with stand-ins behind it: a service that
does not answer gives a plain "try again" page, never a hung worker or an
internal name; an unexpected failure never shows its text."""
import eventlet
import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, RpcTimeout
from tests.support.processes import free_port

STALL = {"seconds": 0.0}


class StalledClients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        eventlet.sleep(STALL["seconds"])
        raise RuntimeError("session st_secret_internal_id exploded")


class Payments:
    name = "payments"

    @rpc(expected_exceptions=EXPECTED)
    def open_payment_link(self, token, grant=None):
        raise RpcTimeout("clients.check_date_of_birth did not answer within 10 s")


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "RPC_TIMEOUT_SECONDS": 0.5}
    for service in (StalledClients, Payments, PortalGateway):
        container_factory(service, config).start()
    STALL["seconds"] = 0.0
    return f"http://127.0.0.1:{port}"


def test_a_service_that_does_not_answer_gets_a_plain_try_again_page(gateway):
    STALL["seconds"] = 3
    started = eventlet.hubs.get_hub().clock()
    page = requests.get(f"{gateway}/staff", cookies={"cairn_staff_session": "x"}, timeout=10)
    assert page.status_code == 503 and "try again in a minute" in page.text
    assert "get_session" not in page.text and "RpcTimeout" not in page.text
    assert eventlet.hubs.get_hub().clock() - started < 2.5             # the deadline, not the stall


def test_a_deadline_missed_deeper_down_is_told_plainly(gateway):
    page = requests.get(f"{gateway}/pay/some.token", timeout=10)
    assert page.status_code == 503 and "try again in a minute" in page.text
    assert "check_date_of_birth" not in page.text


def test_an_unexpected_failure_never_shows_its_text(gateway):
    page = requests.get(f"{gateway}/staff", cookies={"cairn_staff_session": "x"}, timeout=10)
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    assert "st_secret_internal_id" not in page.text and "RuntimeError" not in page.text
