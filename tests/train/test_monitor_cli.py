"""`simgen monitor`: flags a shifted stream (a third of the frame rate: exit 1, report.json + report.html),
not a clean one (exit 0)."""

import json

import numpy as np
import pytest


def video_folder(root, helpers, n, seed, perturb=None):
    """``n`` moving-square clips (labels.csv without labels), optionally perturbed (simgen.adapt.perturb)."""
    from simgen.adapt.perturb import apply_perturbation

    rng = np.random.default_rng(seed)
    lines = ["path,label"]
    for i in range(n):
        frames = helpers.moving_square(helpers.CLASSES[i % 3], 24, 32, rng)
        if perturb is not None:
            frames, _ = apply_perturbation(frames, 25.0, *perturb, rng)
        helpers.write_video_file(root / f"c{i:02d}.mp4", frames)
        lines.append(f"c{i:02d}.mp4,")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def reference(tmp_path_factory, helpers):
    return video_folder(tmp_path_factory.mktemp("reference"), helpers, 24, seed=0)


def monitor(simgen_cli, checkpoint, reference, stream, out):
    return simgen_cli.run(["monitor", "--checkpoint", checkpoint, "--reference", reference, "--stream", stream,
                           "--out", out, "--permutations", "500", "--budget", "3", "--no-progress"])


def test_clean_stream_passes_shifted_stream_is_flagged(checkpoint, reference, helpers, tmp_path, simgen_cli):
    clean = video_folder(tmp_path / "clean", helpers, 12, seed=1)
    code, out, err = monitor(simgen_cli, checkpoint, reference, clean, tmp_path / "r_clean")
    report = json.loads((tmp_path / "r_clean" / "report.json").read_text())
    assert code == 0 and not report["flagged"] and "no drift" in out, (out, err)
    assert min(s["p_value"] for s in report["statistics"].values()) > report["level_per_statistic"]

    # the same clips at a third of the frame rate (every 3rd frame kept)
    slowed = video_folder(tmp_path / "slowed", helpers, 12, seed=1, perturb=("fps", 3))
    code, out, err = monitor(simgen_cli, checkpoint, reference, slowed, tmp_path / "r_occ")
    report = json.loads((tmp_path / "r_occ" / "report.json").read_text())
    assert code == 1 and report["flagged"] and "DRIFT FLAGGED" in out, (out, err)
    assert report["statistics"]["mmd"]["flagged"] and report["reasons"]
    assert report["sources"]["n_reference"] == 24 and report["sources"]["n_stream"] == 12
    assert len(report["label_first"]) == 3 and len(report["per_clip"]) == 12
    assert report["label_first"][0]["novel"]  # novel clips come first
    html = (tmp_path / "r_occ" / "report.html").read_text()
    assert "FLAGGED" in html and html.count("data:image/png;base64,") == 3 and "<script" not in html
    assert (tmp_path / "r_occ" / "clips.csv").read_text().startswith("path,label,predicted")


def test_bad_input_is_one_line(checkpoint, reference, tmp_path, simgen_cli):
    base = ["monitor", "--checkpoint", checkpoint, "--reference", reference, "--out", tmp_path / "r"]
    simgen_cli.one_line_error(base + ["--stream", tmp_path / "none"], "--stream", "not found")
    simgen_cli.one_line_error(["monitor", "--checkpoint", tmp_path / "x.pt", "--reference", reference,
                               "--stream", reference], "--checkpoint", "not found")
    (tmp_path / "empty").mkdir()
    simgen_cli.one_line_error(base + ["--stream", tmp_path / "empty"], "empty", "no video files")
    simgen_cli.one_line_error(base + ["--stream", reference, "--alpha", "1.5"], "--alpha", "between 0 and 1")
    simgen_cli.one_line_error(base + ["--stream", reference, "--stream-subjects", "s9"], "subject")
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.mp4").write_bytes((reference / "c00.mp4").read_bytes())
    simgen_cli.one_line_error(base + ["--stream", loose, "--stream-subjects", "s0"], "loose", "no labels.csv")
    (tmp_path / "fake.pt").write_bytes(b"not a checkpoint")
    simgen_cli.one_line_error(["monitor", "--checkpoint", tmp_path / "fake.pt", "--reference", reference,
                               "--stream", reference, "--out", tmp_path / "r"], "fake.pt", "checkpoint")
