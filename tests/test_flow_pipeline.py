"""`ocr pipeline` end to end on tiny settings: every stage runs and the report is scored."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_pipeline_cli_end_to_end(prefect_api, tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    out = str(tmp_path / "pipe")
    r = subprocess.run([exe, "pipeline", "--out", out, "--lines", "160", "--train-steps", "4", "--pages", "2",
                        "--dpi", "100", "--workers", "1"], capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout[r.stdout.index("{"):])
    assert res["score"]["pages"] == 2
    assert 0.0 <= res["score"]["cer"]
    assert res["recognize"]["pages"] == 2 and res["recognize"]["errors"] == 0
    for sub in ("train-lines/_SUCCESS", "model/model.json", "truth-pages/_SUCCESS", "archive/pages.tar", "results/_SUCCESS"):
        assert os.path.exists(os.path.join(out, sub)), sub
