"""The biggest presets import Slate accepts, during a render, while a member of another
workspace saves and signs in, on a real server: the render completes, the import lands and
every other request succeeds or says "busy, try again"; nothing answers 500."""

import pytest

from tests.support.busy import scenario
from tests.support.processes import make_install

pytestmark = pytest.mark.slow


def test_a_big_import_during_a_render_fails_nobody(tmp_path):
    install = make_install(tmp_path / "var")
    try:
        found = scenario(install, install.serve(), big_import=True)
    finally:
        install.stop()
    logs = install.logs()
    assert found["render"] == "completed", logs
    assert found["import"] == 200 and "Imported 20:" in found["import_page"], logs
    for status, _, body in found["saves"]:
        assert status in (200, 302) or (status == 503 and "try again" in body), (status, logs)
    assert sum(status in (200, 302) for status, _, _ in found["saves"]) >= 1
    assert all(status == 302 for status, _, _ in found["logins"]), found["logins"]
    assert "Traceback" not in logs and " 500 " not in logs
