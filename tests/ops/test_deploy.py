"""deploy/: the Dockerfile, the compose file and the Kubernetes manifests.

The manifests are validated against the Kubernetes OpenAPI JSON schemas bundled in the
`kubernetes-validate` package (offline, strict: unknown fields are errors) — the
`kubectl apply --dry-run=client` check without a cluster. The compose file gets a structural
check (every service, image/build, commands, replicas, dependencies, health checks)."""

import subprocess
from pathlib import Path

import kubernetes_validate
import yaml

from tests.support.suite import REPO

DEPLOY = REPO / "deploy"
SERVICES = ("gateway", "orders", "payments", "notifications", "exports", "documents")
K8S_VERSION = "1.30.0"
SLOWEST_WORKER_SECONDS = 30  # the longest RPC deadline in the suite (ORDERS_RPC_TIMEOUT of exports)


def manifests():
    documents = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return documents


def test_every_manifest_is_valid_kubernetes():
    documents = manifests()
    assert len(documents) >= 10
    for name, document in documents:
        try:
            kubernetes_validate.validate(document, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(
                f"{name}: {document['kind']} {document['metadata']['name']}: {error.message} "
                f"at {'/'.join(map(str, error.path))}"
            ) from None


def test_deployments_have_replicas_probes_graceful_termination_and_config():
    documents = manifests()
    kinds = {(d["kind"], d["metadata"]["name"]) for _, d in documents}
    assert ("ConfigMap", "oms-config") in kinds and ("Secret", "oms-secrets") in kinds
    assert ("Service", "gateway") in kinds
    deployments = {d["metadata"]["name"]: d for _, d in documents if d["kind"] == "Deployment"}
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        spec = deployment["spec"]
        assert spec["replicas"] >= 2, name
        pod = spec["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] > SLOWEST_WORKER_SECONDS, name
        (container,) = pod["containers"]
        assert container["args"] == [name]
        assert container["readinessProbe"] and container["livenessProbe"], name
        refs = {ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]}
        assert refs == {"oms-config", "oms-secrets"}
        assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
        ports = {port["name"] for port in container.get("ports", [])}
        assert "metrics" in ports, name
    gateway_service = next(d for _, d in documents if d["kind"] == "Service" and d["metadata"]["name"] == "gateway")
    labels = deployments["gateway"]["spec"]["template"]["metadata"]["labels"]
    assert gateway_service["spec"]["selector"].items() <= labels.items()
    assert (
        deployments["gateway"]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"]
        == "/health"
    )
    for name in ("orders", "notifications"):  # no HTTP API: the ping RPC through oms_common.healthcheck
        probe = deployments[name]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert probe["exec"]["command"][:3] == ["python", "-m", "oms_common.healthcheck"]


def test_compose_file_has_infrastructure_and_every_service():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"rabbitmq", "postgres", "mailpit", "migrate", *SERVICES} <= set(services)
    assert services["migrate"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / services["migrate"]["build"]["context"] / services["migrate"]["build"]["dockerfile"]).exists()
    for name in SERVICES:
        service = services[name]
        assert service["image"] == "oms:latest" and service["command"] == [name], name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["healthcheck"]["test"], name
        assert int(service["stop_grace_period"].rstrip("s")) > SLOWEST_WORKER_SECONDS
        environment = service["environment"]
        assert environment["OMS_AMQP_URI"].startswith("amqp://") and "@rabbitmq:" in environment["OMS_AMQP_URI"]
        assert "@postgres:" in environment["OMS_DATABASE_URL"]
    assert sum(1 for name in SERVICES if services[name].get("deploy", {}).get("replicas", 1) >= 2) >= 3
    assert services["gateway"]["environment"]["OMS_EXPORTS_HTTP_ADDRESS"] == "exports:8002"
    assert services["notifications"]["environment"]["OMS_SMTP_HOST"] == "mailpit"


def test_dockerfile_installs_the_lock_and_the_entrypoint_execs_nameko():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip install -r /app/requirements.lock" in dockerfile
    assert 'ENTRYPOINT ["/usr/local/bin/oms-entrypoint"]' in dockerfile  # exec form: no shell in between
    entrypoint = (DEPLOY / "entrypoint.sh").read_text()
    assert "exec python -m nameko run --config" in entrypoint
    for name in SERVICES:
        assert f"\n    {name})" in entrypoint
    refused = subprocess.run(
        ["sh", str(DEPLOY / "entrypoint.sh"), "no-such-service"], capture_output=True, text=True, timeout=10
    )
    assert refused.returncode == 64 and "usage" in refused.stderr
    syntax = subprocess.run(["sh", "-n", str(DEPLOY / "entrypoint.sh")], capture_output=True, timeout=10)
    assert syntax.returncode == 0


def test_documented():
    readme = (DEPLOY / "README.md").read_text()
    for word in ("docker compose", "kubectl apply", "OMS_METRICS_PORT", "healthcheck", "terminationGracePeriodSeconds"):
        assert word in readme
    assert Path(DEPLOY / "k8s").is_dir()
