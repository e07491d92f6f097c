"""The README's two commands on a fresh machine: catalogues compile without GNU gettext, the venv is
rebuilt when it was made with another Python, `make demo PORT=…`, Python 3.11–3.13 allowed."""

import gettext
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def test_catalogues_compile_without_msgfmt(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no msgfmt reachable
    call_command("compile_catalogues", out=str(tmp_path / "mo"), verbosity=0)
    with (tmp_path / "mo" / "en" / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        english = gettext.GNUTranslations(mo)
    assert english.gettext("待办") == "Inbox"
    assert english.gettext("工作台") == "Workbench"


def test_makefile_compiles_with_the_pure_python_command():
    makefile = (ROOT / "Makefile").read_text()
    assert "manage.py compile_catalogues" in makefile and "compilemessages" not in makefile


def test_python_3_11_to_3_13_allowed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11,<3.14"


FAKE_PYTHON = """#!/bin/sh
# a stand-in interpreter: answers the version query with {version}, makes venvs of itself, ignores the rest
case "$*" in
  *version_info*) echo {version} ;;
  "-m venv "*) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
  *) exit 0 ;;
esac
"""


def _fake_python(path: Path, version: str) -> Path:
    path.write_text(FAKE_PYTHON.format(version=version))
    path.chmod(0o755)
    return path


def _make(cwd: Path, *args: str) -> str:
    env = {**os.environ, "MAKEFLAGS": ""}
    done = subprocess.run(["make", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def test_a_venv_made_with_another_python_is_rebuilt(tmp_path):
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    python = _fake_python(tmp_path / "python3.12", "3.12")
    _fake_python((tmp_path / ".venv" / "bin").mkdir(parents=True) or tmp_path / ".venv/bin/python", "3.11")
    out = _make(tmp_path, "venv", f"PYTHON={python}")
    assert "made with Python 3.11: rebuilding it with" in out
    check = subprocess.run(
        [tmp_path / ".venv/bin/python", "-c", "version_info"], capture_output=True, text=True
    )
    assert check.stdout.strip() == "3.12"
    assert "rebuilding" not in _make(tmp_path, "venv", f"PYTHON={python}")  # same Python: kept


def test_demo_serves_on_the_port_given():
    out = _make(ROOT, "-n", "demo", "PORT=8123")
    assert "runserver 127.0.0.1:8123" in out
    assert "runserver 127.0.0.1:8000" in _make(ROOT, "-n", "demo")
