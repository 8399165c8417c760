"""``python -m bench [--smoke] [--output FILE]``: run every benchmark, print one Markdown table.

The same data goes to a JSON file (default ``bench/results/bench.json``), with the machine it
ran on. ``--smoke`` runs the same code on tiny inputs, for the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from . import brand_profiles, cold_start, deploy, synth_scale

REPO = Path(__file__).resolve().parent.parent

FULL = {
    "synth_counts": [1, 50, 200],
    "synth_rounds": 3,
    "cold_start_runs": 10,
    "latency_seconds": 0.05,
    "upload_seconds": [0.5, 2.0, 10.0],
    "deploy_rounds": 3,
    "throughput_count": 100,
    "quota_per_second": 1.0,
    "parallelism": 20,
    "profile_quota_per_second": 1.0,
}
SMOKE = {
    "synth_counts": [1, 3],
    "synth_rounds": 1,
    "cold_start_runs": 2,
    "latency_seconds": 0.01,
    "upload_seconds": [0.2],
    "deploy_rounds": 1,
    "throughput_count": 4,
    "quota_per_second": 4.0,
    "parallelism": 4,
    "profile_quota_per_second": 4.0,
}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cli = REPO / "node_modules" / ".bin" / "cdk"
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    cdk_cli = (
        subprocess.run([str(cli), "--version"], capture_output=True, text=True).stdout.strip()
        if cli.exists()
        else "not installed"
    )
    return {
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "node": node,
        "aws_cdk_lib": version("aws-cdk-lib"),
        "cdk_cli": cdk_cli,
        "boto3": version("boto3"),
        "date": time.strftime("%Y-%m-%d"),
    }


def _ratio(value: float, other: float) -> str:
    return f"{value / other:.2f}x" if other else "-"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _header(*cells: str) -> list[str]:
    return [_row(*cells), _row(*["---"] * len(cells))]


def _synth_rows(synth: dict[str, Any]) -> list[str]:
    ours, native, acr = (synth[n] for n in ("this-construct", "native-l1", "aws-custom-resource"))
    counts = sorted(ours, key=int)
    top = counts[-1]
    lines = _header(
        "Synth scale (median)",
        "this construct",
        "native L1 + Asset",
        "AwsCustomResource",
        "ratio vs L1",
        "ratio vs AwsCustomResource",
    )
    metrics = [(f"synth time, N={n}", n, "synth_seconds", "{:.2f} s") for n in counts]
    metrics += [(f"peak memory, N={n}", n, "peak_rss_mb", "{:.0f} MB") for n in counts]
    metrics += [
        (f"template bytes, N={top}", top, "template_bytes", "{:.0f}"),
        (
            "template bytes per extra attachment",
            top,
            "template_bytes_per_extra_attachment",
            "{:.0f}",
        ),
        ("resources per extra attachment", top, "resources_per_extra_attachment", "{:.1f}"),
    ]
    for label, count, key, shape in metrics:
        o, n, a = ours[count][key], native[count][key], acr[count][key]
        lines.append(_row(label, *(shape.format(v) for v in (o, n, a)), _ratio(o, n), _ratio(o, a)))
    o, n, a = ours[top], native[top], acr[top]
    lines.append(
        _row(
            f"Lambda functions / IAM policies, N={top}",
            *(f"{x['lambda_functions']} / {x['iam_policies']}" for x in (o, n, a)),
            "",
            "",
        )
    )
    key = "largest_n_within_500_resources"
    lines.append(_row("largest N within 500 resources", o[key], n[key], a[key], "", ""))
    return lines


def _cold_start_rows(cold: dict[str, Any]) -> list[str]:
    other = (cold["aws_custom_resource_asset_zipped_bytes"] or 0) / 1024
    return [
        *_header("Handler cold start", "value", "comparison"),
        _row(
            "import of the handler (median)",
            f"{cold['handler_import_ms']:.0f} ms",
            f"`import boto3` alone: {cold['boto3_import_ms']:.0f} ms",
        ),
        _row(
            "asset, zipped",
            f"{cold['asset_zipped_bytes'] / 1024:.1f} KB",
            f"AwsCustomResource's asset: {other:.1f} KB",
        ),
    ]


def _deploy_rows(deployed: dict[str, Any]) -> list[str]:
    lines = _header(
        f"Deploy, per-call latency {deployed['latency_seconds'] * 1000:.0f} ms (median)",
        "Create",
        "overhead (Create - T)",
        "calls per Create (Head/Get/Create/Describe)",
        "tag-only Update",
        "Delete",
    )
    for upload, row in deployed["by_upload_seconds"].items():
        calls = row["calls_per_create"]
        counts = "/".join(
            f"{calls[k]:.0f}"
            for k in (
                "HeadObject",
                "GetObject",
                "CreateRegistrationAttachment",
                "DescribeRegistrationAttachments",
            )
        )
        lines.append(
            _row(
                f"upload time T = {float(upload):g} s",
                f"{row['create_seconds']:.2f} s",
                f"{row['create_overhead_seconds']:.2f} s",
                counts,
                f"{row['update_tags_seconds']:.2f} s",
                f"{row['delete_seconds']:.2f} s",
            )
        )
    t = deployed["throughput"]
    lines += [
        "",
        *_header(
            f"Throughput: {t['attachments']} attachments, quota {t['quota_per_second']:g}/s, "
            f"{t['parallelism']} in parallel",
            "wall time",
            f"vs ideal {t['ideal_seconds']:.0f} s",
            "throttled calls",
        ),
    ]
    for direction in ("create", "delete"):
        lines.append(
            _row(
                direction,
                f"{t[direction + '_seconds']:.1f} s",
                f"{t[direction + '_vs_ideal']:.2f}x",
                t[f"throttled_{direction}s"],
            )
        )
    return lines


def _profile_rows(measured: dict[str, Any]) -> list[str]:
    m = measured
    lines = _header(
        f"Brand profile ({m['attributes']} attributes) and {m['registrations']} registrations "
        f"drawn from it, profile quota {m['quota_per_second']:g}/s",
        "made",
        "least needed",
        "ratio",
    )
    lines.append(
        _row(
            "profile writes on Create",
            m["profile_writes"],
            m["profile_least_writes"],
            _ratio(m["profile_writes"], m["profile_least_writes"]),
        )
    )
    lines.append(
        _row(
            f"profile calls paced by the quota ({m['profile_calls']} sent, "
            f"{m['profile_throttled_calls']} throttled)",
            f"{m['profile_paced_seconds']:.1f} s",
            f"{m['profile_ideal_seconds']:.1f} s",
            _ratio(m["profile_paced_seconds"], m["profile_ideal_seconds"]),
        )
    )
    changed = m["change_registration_writes"]
    lines.append(
        _row(
            "one fact changed: writes per registration that uses it",
            "/".join(str(n) for n in changed),
            "/".join("1" for _ in range(m["change_registrations_using_the_fact"])),
            f"profile: {', '.join(m['change_profile_writes']) or 'none'}",
        )
    )
    return lines


def table(results: dict[str, Any]) -> str:
    """The results as Markdown."""
    m = results["machine"]
    intro = (
        f"Machine: {m['cores']} cores, Python {m['python']}, Node {m['node']}, "
        f"aws-cdk-lib {m['aws_cdk_lib']}, CDK CLI {m['cdk_cli']}, {m['date']}."
    )
    sections = [
        [intro],
        _synth_rows(results["synth_scale"]),
        _cold_start_rows(results["cold_start"]),
        _deploy_rows(results["deploy"]),
        _profile_rows(results["brand_profiles"]),
    ]
    return "\n\n".join("\n".join(section) for section in sections)


def main() -> int:
    """Run the benchmarks, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--smoke", action="store_true", help="tiny inputs, to check it runs")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "bench.json")
    arguments = parser.parse_args()
    settings = SMOKE if arguments.smoke else FULL
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        workdir = Path(work)
        synth = synth_scale.measure(
            workdir / "synth", settings["synth_counts"], settings["synth_rounds"]
        )
        low = min(settings["synth_counts"])
        cold = cold_start.measure(
            workdir,
            workdir / "synth" / f"this-construct-{low}",
            workdir / "synth" / f"aws-custom-resource-{low}",
            settings["cold_start_runs"],
        )
        deployed = deploy.measure(
            workdir / "deploy",
            latency_seconds=settings["latency_seconds"],
            upload_seconds=settings["upload_seconds"],
            rounds=settings["deploy_rounds"],
            throughput_count=settings["throughput_count"],
            quota_per_second=settings["quota_per_second"],
            parallelism=settings["parallelism"],
        )
        profiles = brand_profiles.measure(
            workdir / "brand-profiles",
            quota_per_second=settings["profile_quota_per_second"],
            parallelism=settings["parallelism"],
        )
    results = {
        "machine": machine(),
        "settings": settings,
        "synth_scale": synth,
        "cold_start": cold,
        "deploy": deployed,
        "brand_profiles": profiles,
        "bench_seconds": time.perf_counter() - started,
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(results, indent=2, default=str))
    print(table(results))
    print(f"\n(JSON: {arguments.output}; {results['bench_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
