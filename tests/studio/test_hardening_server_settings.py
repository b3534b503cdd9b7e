"""Settings for production: private files, and a documented HTTPS configuration with no warning."""

import re
import secrets
import stat

from tests.conftest import REPO
from tests.support.processes import Install, make_install

SAVE_MEDIA = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
print(default_storage.save("takes/2026/take.mp4", ContentFile(b"video")))
"""


def loose(path) -> list[str]:
    """Everything under ``path`` (itself included) that its group or others may use."""
    found = [path, *path.rglob("*")]
    return [f"{oct(p.stat().st_mode & 0o777)} {p}" for p in found if p.stat().st_mode & 0o077]


def test_a_fresh_install_is_private_to_the_service_user(tmp_path):
    install = make_install(tmp_path / "var")
    saved = install.manage("shell", "-v0", "-c", SAVE_MEDIA)
    assert saved.returncode == 0, saved.stderr
    var = tmp_path / "var"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE((var / "slate.sqlite3").stat().st_mode) == 0o600
    assert stat.S_IMODE((var / "media").stat().st_mode) == 0o700
    assert stat.S_IMODE((var / "media" / saved.stdout.strip()).stat().st_mode) == 0o600
    assert loose(var) == []


def test_an_install_made_world_readable_is_tightened_at_the_next_start(tmp_path):
    install = make_install(tmp_path / "var")
    var = tmp_path / "var"
    for path in (var, var / "media"):
        path.chmod(0o755)
    (var / "slate.sqlite3").chmod(0o644)
    assert install.manage("check").returncode == 0
    assert loose(var) == []


def production_env() -> dict[str, str]:
    """The production variables exactly as README "Scale-out" lists them."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("<!-- production-env -->")[1].split("```")[1]
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    env = dict(re.fullmatch(r"(\w+)=(.*)", line).groups() for line in lines)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    return env


def test_the_documented_production_settings_pass_the_deploy_check(tmp_path):
    env = production_env()
    assert {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER"} <= set(env)
    install = Install(tmp_path / "var", **env)
    done = install.manage("check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_the_proxy_header_setting_reads_as_the_header_is_written(tmp_path):
    install = Install(tmp_path / "var", SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https")
    shown = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    done = install.manage("shell", "-v0", "-c", shown)
    assert done.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", done.stderr
