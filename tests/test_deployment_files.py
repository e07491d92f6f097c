"""docker-compose.yml cannot be run here (no Docker engine), so check what can be checked."""

import importlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_describes_the_production_deployment():
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert all("healthcheck" in s for name, s in services.items() if name != "migrate")
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("migrate", "web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://") and env["REDIS_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]


def test_migrations_run_once_in_a_one_shot_service():
    services = COMPOSE["services"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "migrate" not in " ".join(services[name]["command"])


def test_the_media_volume_is_writable_by_the_app_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    # the mount point exists in the image, owned by the user the container runs as, so a new named
    # volume is created with that owner
    assert "mkdir -p /app/var/media && chown -R portal:portal /app/var" in dockerfile
    assert dockerfile.index("chown -R portal:portal /app/var") < dockerfile.index("USER portal")
    assert "media:/app/var/media" in COMPOSE["x-app"]["volumes"]
    assert COMPOSE["x-app"]["environment"]["DJANGO_MEDIA_ROOT"] == "/app/var/media"


def test_the_image_leaves_out_secrets_environments_data_and_history():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", ".venv", "var/", "*.sqlite3", ".git"} <= ignored


def test_compose_commands_name_real_modules():
    assert importlib.import_module("guarantee_portal.wsgi").application is not None
    assert importlib.import_module("guarantee_portal.celery").app.main == "guarantee_portal"
    assert "gunicorn guarantee_portal.wsgi" in " ".join(COMPOSE["services"]["web"]["command"])
    assert (ROOT / "Dockerfile").exists()
