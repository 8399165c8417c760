"""Synth scale: this construct against the native L1 and AwsCustomResource, N attachments each.

Each synth runs in a fresh process (the jsii/Node start-up is part of what users wait for),
into an output directory kept per contender and N, so asset bundles are warm as on a
developer's second synth; a first, unmeasured run warms it. Contenders alternate in every
round so that machine noise hits them alike.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from .measure import median, run
from .synth_app import CONTENDERS

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "documents" / "sample-letter-of-authorization.pdf"
RESOURCE_LIMIT = 500


def write_documents(directory: Path, count: int) -> None:
    """Distinct small PDFs (distinct content, so each is its own asset)."""
    directory.mkdir(parents=True, exist_ok=True)
    content = SAMPLE.read_bytes()
    for index in range(count):
        path = directory / f"document-{index:04}.pdf"
        if not path.exists():
            path.write_bytes(content + f"% document {index}\n".encode())


def _template_facts(outdir: Path) -> dict[str, Any]:
    template_path = outdir / "Bench.template.json"
    template = json.loads(template_path.read_text())
    types = Counter(resource["Type"] for resource in template["Resources"].values())
    return {
        "template_bytes": template_path.stat().st_size,
        "resources": sum(types.values()),
        "lambda_functions": types["AWS::Lambda::Function"],
        "iam_policies": types["AWS::IAM::Policy"] + types["AWS::IAM::ManagedPolicy"],
    }


def measure(workdir: Path, counts: list[int], rounds: int) -> dict[str, Any]:
    """Median synth time and memory, and template facts, per contender and N."""
    documents = workdir / "documents"
    write_documents(documents, max(counts))
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    results: dict[str, Any] = {}
    names = list(CONTENDERS)
    for count in counts:
        samples: dict[str, list[Any]] = {name: [] for name in names}
        for round_index in range(rounds + 1):  # round 0 warms the bundles and is not counted
            order = names[round_index % len(names) :] + names[: round_index % len(names)]
            for name in order:
                outdir = workdir / f"{name}-{count}"
                command = [
                    sys.executable,
                    "-m",
                    "bench.synth_app",
                    name,
                    str(count),
                    str(documents),
                    str(outdir),
                ]
                measured = run(command, env=env, cwd=REPO)
                if round_index:
                    samples[name].append(measured)
        for name in names:
            results.setdefault(name, {})[count] = {
                "synth_seconds": median([s.seconds for s in samples[name]]),
                "peak_rss_mb": median([s.peak_rss_mb for s in samples[name]]),
                **_template_facts(workdir / f"{name}-{count}"),
            }
    for per_count in results.values():
        _add_growth(per_count, counts)
    return results


def _add_growth(per_count: dict[int, dict[str, Any]], counts: list[int]) -> None:
    low, high = min(counts), max(counts)
    extra = high - low
    if not extra:
        return
    first, last = per_count[low], per_count[high]
    per_resource = (last["resources"] - first["resources"]) / extra
    per_bytes = (last["template_bytes"] - first["template_bytes"]) / extra
    fixed = first["resources"] - per_resource * low
    largest = int((RESOURCE_LIMIT - fixed) // per_resource) if per_resource else None
    for facts in per_count.values():
        facts["resources_per_extra_attachment"] = per_resource
        facts["template_bytes_per_extra_attachment"] = per_bytes
        facts["largest_n_within_500_resources"] = largest
