"""docker-compose.yml cannot be run here (no Docker engine), so check what can be checked."""

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_describes_the_production_deployment():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert all("healthcheck" in s for s in services.values())
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]


def test_compose_commands_name_real_modules():
    assert importlib.import_module("guarantee_portal.wsgi").application is not None
    assert importlib.import_module("guarantee_portal.celery").app.main == "guarantee_portal"
    assert "gunicorn guarantee_portal.wsgi" in COMPOSE["services"]["web"]["command"]
    assert (ROOT / "Dockerfile").exists()
