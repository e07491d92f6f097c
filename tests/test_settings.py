"""Production settings pass Django's deployment checks when the documented variables are set."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-for-the-check-only-7Hq9x2Lm4Vb8Nc1Zr5Tw",
    "PII_HASH_KEY": "p" * 20 + "-production-pii-hash-key-for-the-check-only-3Rk8Wd",
    "DJANGO_ALLOWED_HOSTS": "danbao.example.gov.cn",
    "DATABASE_URL": "sqlite:////tmp/unused-deploy-check.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def _manage(*args, env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "OTP_", "PII_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_has_no_warnings_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_pii_hash_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PII_HASH_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "PII_HASH_KEY" in result.stderr


def test_production_settings_turn_on_second_factor_and_health_checks():
    code = (
        "from django.conf import settings as s; "
        "print(s.OTP_REQUIRED, s.DATABASES['default']['CONN_HEALTH_CHECKS'], s.CELERY_TASK_ALWAYS_EAGER, s.DEBUG)"
    )
    result = _manage("shell", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.strip().splitlines()[-1] == "True True False False"


def test_embedded_default_runs_tasks_in_process():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.CELERY_TASK_ALWAYS_EAGER, s.OTP_REQUIRED)",
        env={},
    )
    assert result.stdout.strip().splitlines()[-1] == "True False"
