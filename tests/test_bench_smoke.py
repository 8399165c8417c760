"""``make bench`` in its smoke mode, so the benchmark cannot rot (the full run is not a test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def test_bench_smoke_runs_and_reports(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=REPO,
        env={**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "| Synth scale (median) |" in result.stdout
    assert "| Throughput:" in result.stdout
    results = json.loads(output.read_text())
    assert results["machine"]["cores"] >= 1
    ours = results["synth_scale"]["this-construct"]
    for facts in ours.values():
        assert facts["lambda_functions"] == 1
        assert facts["resources_per_extra_attachment"] == 1.0
    other = results["synth_scale"]["aws-custom-resource"]["1"]
    assert other["resources_per_extra_attachment"] == 2.0
    calls = results["deploy"]["by_upload_seconds"]["0.2"]["calls_per_create"]
    assert calls["CreateRegistrationAttachment"] == 1
    assert calls["HeadObject"] == 1 and calls["GetObject"] == 1
    throughput = results["deploy"]["throughput"]
    assert throughput["live_after_create"] == throughput["attachments"]
    assert throughput["live_after_delete"] == 0
    profiles = results["brand_profiles"]
    assert profiles["attributes"] == 20 and profiles["registrations"] == 3
    assert profiles["profile_writes"] == profiles["profile_least_writes"]
    assert profiles["change_profile_writes"] == ["UpdateBrandProfileAttribute"]
    assert (
        profiles["change_registration_writes"]
        == [1] * profiles["change_registrations_using_the_fact"]
    )
    assert profiles["left_after_destroy"] == 0
    assert "| Brand profile (20 attributes)" in result.stdout
