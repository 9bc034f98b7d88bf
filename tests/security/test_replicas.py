"""Two gateway replicas on one database: what one changes about a token or a role holds on the
other from its very next request (nothing is cached per replica)."""

import requests

from gateway import users
from gateway.auth import create_user_with_token
from gateway.models import ApiToken, infrastructure
from gateway.service import GatewayService
from orders.service import OrdersService
from tests.conftest import sql_source
from tests.gateway.conftest import ADMIN_TOKEN  # the session database's admin, as every gateway test has it
from tests.support.suite import free_port


def test_revocation_and_demotion_hold_at_once_on_every_replica(runner_factory, service_config, database_url):
    bases = []
    for extra in ((OrdersService,), ()):
        address = f"127.0.0.1:{free_port()}"
        config = {
            **service_config,
            "WEB_SERVER_ADDRESS": address,
            "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
            "RPC_TIMEOUT_SECONDS": 5,
        }
        runner_factory(config, GatewayService, *extra).start()
        bases.append(f"http://{address}")
    source = sql_source(database_url, "gateway", infrastructure)
    try:
        revoked = create_user_with_token(source, "replica-revoked", "agent", "replica")
        demoted = create_user_with_token(source, "replica-demoted", "admin", "replica")

        def call(base, token, method="GET", path="/api/v1/settings/numbering", **kwargs):
            return requests.request(
                method, base + path, headers={"Authorization": f"Bearer {token}"}, timeout=15, **kwargs
            )

        for base in bases:  # both replicas have just seen both tokens
            assert call(base, revoked, path="/api/v1/orders").status_code == 200
            assert call(base, demoted).status_code == 200
        prefix = call(bases[0], ADMIN_TOKEN).json()["invoice_prefix"]

        with source.read_session() as session:
            token_id = (
                session.query(ApiToken.id)
                .filter(ApiToken.name == "replica")
                .join(users.User, users.User.id == ApiToken.user_id)
                .filter(users.User.username == "replica-revoked")
                .scalar()
            )
        users.revoke_token(source, token_id)
        users.update_user(source, users.find_user_id(source, "replica-demoted"), role="readonly")

        for base in bases:
            assert call(base, revoked, path="/api/v1/orders").status_code == 401
            refused = call(base, demoted, "PUT", json={"invoice_prefix": "REPLICA-"})
            assert refused.status_code == 403, refused.text
        assert call(bases[1], ADMIN_TOKEN).json()["invoice_prefix"] == prefix
    finally:
        source.engine.dispose()
