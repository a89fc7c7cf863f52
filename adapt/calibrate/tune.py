"""``simgen calibrate --tune``: search a spec's factor ranges to shrink the gap to real footage.

The cross-entropy method (Rubinstein 1999; de Boer et al., "A Tutorial on the Cross-Entropy
Method", 2005) over the *centres* of the chosen ``[low, high]`` ranges (each keeps its width, and
stays inside the bounds the spec accepts): each round draws a few candidate specs from a Gaussian,
generates a small probe batch of each, scores it, and refits the Gaussian to the best half.

The score of a probe is the unbiased MMD² between its clips' low-level statistics (person box,
brightness, contrast, saturation, sharpness, noise, motion; :mod:`.lowlevel`) and the real clips',
z-scored with the real set's statistics and a Gaussian kernel whose width is fixed from the real set,
so that every probe is measured on one scale. Every random draw comes from the Generator passed in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simgen.adapt.calibrate.distances import gaussian_kernel, median_bandwidth, mmd_squared
from simgen.adapt.calibrate.lowlevel import clip_statistics
from simgen.errors import SimgenError

#: the statistics a probe is scored on (not fps or compression: those are settings, not factors)
SCORED = ("brightness", "contrast", "saturation", "sharpness", "noise", "frame_difference", "flow_magnitude",
          "person_height", "person_width", "person_centre_x", "person_bottom", "person_bulk")
#: tuned when --factors is not given: framing, body and viewpoint, the gap the feasibility study found first
DEFAULT_FACTORS = ("camera.actor_height_fraction", "camera.vertical_offset", "camera.elevation_deg",
                   "actor.torso_girth", "actor.limb_girth")


def _field_info(name: str):
    from simgen.spec import GenerationSpec

    model, info = GenerationSpec, None
    for part in name.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = info.annotation
    return info


def factor_bounds(name: str) -> tuple[float, float]:
    """The interval the spec accepts for a range factor (from its validator), or (-inf, inf)."""
    info = _field_info(name)
    for meta in getattr(info, "metadata", []) if info is not None else []:
        bounds = getattr(getattr(meta, "func", None), "bounds", None)
        if bounds is not None:
            return float(bounds[0]), float(bounds[1])
    return float("-inf"), float("inf")


#: with framing: full and keep_framed, the camera backs off until the whole body fits, so a larger
#: actor_height_fraction gives the same clips (measured: the person box is 0.77-0.82 of the frame for
#: every centre from 1.0 to 2.9, against 0.70 at 0.6); searching there would rank noise
WHOLE_BODY_MAX_FRACTION = 1.0


def search_bounds(name: str, spec_data: dict) -> tuple[float, float]:
    """Where searching ``name`` can change the clips: :func:`factor_bounds`, narrowed by the spec's settings."""
    lo, hi = factor_bounds(name)
    if name == "camera.actor_height_fraction":
        camera = spec_data.get("camera", {})
        framing = camera.get("framing", "full")
        framings = framing.get("choice", []) if isinstance(framing, dict) else [framing]
        if camera.get("keep_framed", True) and all(f == "full" for f in framings):
            hi = min(hi, WHOLE_BODY_MAX_FRACTION)
    return lo, hi


def tunable_ranges(spec_data: dict, names: list[str]) -> dict[str, tuple[float, float]]:
    """``{name: (low, high)}`` for each named factor that is a ``[low, high]`` range in the spec."""
    out = {}
    for name in names:
        node: Any = spec_data
        for part in name.split("."):
            if not isinstance(node, dict) or part not in node:
                raise SimgenError(f"--factors: '{name}' is not a field of the spec")
            node = node[part]
        if not (isinstance(node, list) and len(node) == 2 and all(isinstance(v, (int, float)) for v in node)):
            raise SimgenError(f"--factors: '{name}' is {node!r} in the spec, not a [low, high] range to tune")
        out[name] = (float(node[0]), float(node[1]))
    return out


def ranges_from_centres(ranges: dict[str, tuple[float, float]], centres: np.ndarray,
                        bounds: dict[str, tuple[float, float]] | None = None) -> dict[str, list[float]]:
    """Each range moved to its new centre (same width), pushed back inside ``bounds`` (default: what the spec accepts)."""
    out = {}
    for (name, (low, high)), centre in zip(ranges.items(), centres):
        half = (high - low) / 2
        lo_bound, hi_bound = (bounds or {}).get(name) or factor_bounds(name)
        centre = float(np.clip(centre, lo_bound + half, hi_bound - half)) if hi_bound - lo_bound >= 2 * half else (lo_bound + hi_bound) / 2
        out[name] = [round(centre - half, 6), round(centre + half, 6)]
    return out


def search_scale(name: str, low: float, high: float, bounds: tuple[float, float] | None = None) -> float:
    """Initial search spread of a range's centre: a quarter of the searched interval (or twice the width when
    unbounded), never less than the width itself: a footage gap is often far outside the spec's range."""
    lo_bound, hi_bound = bounds or factor_bounds(name)
    width = max(high - low, 1e-3)
    return max(width, 0.25 * (hi_bound - lo_bound)) if np.isfinite(hi_bound - lo_bound) else 2 * width


def _statistics_matrix(frames_iter) -> np.ndarray:
    rows = []
    for frames, fps in frames_iter:
        s = clip_statistics(frames, fps, None)
        rows.append([np.nan if s[k] is None else s[k] for k in SCORED])
    return np.asarray(rows, dtype=np.float64)


class ProbeScorer:
    """MMD² of a probe's statistics to the real clips' on the real set's fixed scale."""

    def __init__(self, real_stats: np.ndarray):
        finite = np.where(np.isfinite(real_stats), real_stats, np.nanmean(real_stats, axis=0))
        self.mean = finite.mean(0)
        self.std = np.maximum(finite.std(0), 1e-6 + 0.05 * np.abs(self.mean))  # a constant statistic still scales
        self.real = (finite - self.mean) / self.std
        self.bandwidth = median_bandwidth(self.real, self.real)

    def __call__(self, stats: np.ndarray) -> float:
        z = (np.where(np.isfinite(stats), stats, self.mean) - self.mean) / self.std  # no person found: counts as typical
        return mmd_squared(z, self.real, self.bandwidth)


def cross_entropy_search(score, start: np.ndarray, scale: np.ndarray, rng: np.random.Generator, *, budget: int,
                         population: int = 4, elites: int = 2, floor: float = 0.2) -> list[dict]:
    """Minimise ``score(centres)`` with ``budget`` calls; returns every probe as ``{round, centres, score}``.

    The first probe is ``start`` itself (the gap before tuning). Each round draws ``population``
    candidates from N(mean, diag(sd²)); the new mean is the mean of the ``elites`` best of that round
    and the best probe so far. Budgets here are tiny (20 probes), so the spread is kept from collapsing:
    sd = max(the elites' spread, the step the mean just took, ``floor`` × ``scale``). On a 2-D bowl
    3.2 units from the start, 40 probes end 0.54 from the minimum (median of seeds 0-9).
    """
    probes = [dict(round=0, centres=start.tolist(), score=float(score(start)))]
    mean, sd = start.astype(np.float64).copy(), scale.astype(np.float64).copy()
    round_ = 0
    while len(probes) < budget:
        round_ += 1
        count = min(population, budget - len(probes))
        candidates = mean + sd * rng.standard_normal((count, len(mean)))
        fresh = [dict(round=round_, centres=c.tolist(), score=float(score(c))) for c in candidates]
        probes += fresh
        pool = sorted(fresh + [min(probes, key=lambda p: p["score"])], key=lambda p: p["score"])
        elite = np.asarray([p["centres"] for p in pool[:elites]])
        new_mean = elite.mean(0)
        sd = np.maximum(np.maximum(elite.std(0), np.abs(new_mean - mean)), floor * scale)
        mean = new_mean
    return probes


def tune_spec(spec_path: Path, real: Path, out: Path, *, budget: int, factors: list[str] | None = None,
              probe_clips: int = 16, seed: int = 0, workers: int = 1, progress: bool = True) -> dict:
    """Tune ``spec_path``'s factor ranges against the real clips in ``real``; write OUT/calibrated.yaml and OUT/tuning.json."""
    from tqdm import tqdm

    from simgen.adapt.calibrate import clips as clip_io
    from simgen.dataset.reader import DatasetReader
    from simgen.jobs.runner import generate_dataset
    from simgen.spec import load_spec

    base = load_spec(path=spec_path)
    data = base.model_dump(mode="json")
    ranges = tunable_ranges(data, list(factors or [f for f in DEFAULT_FACTORS if _is_range(data, f)]))
    if not ranges:
        raise SimgenError(f"--spec {spec_path}: none of {', '.join(DEFAULT_FACTORS)} is a [low, high] range; name some with --factors")
    bounds = {name: search_bounds(name, data) for name in ranges}
    real_rows = clip_io.list_real(real)
    clip_io.check_real_decodable(real, real_rows)
    size = int(min(base.size)) if isinstance(base.size, (list, tuple)) else int(base.size)
    scorer = ProbeScorer(_statistics_matrix((c.frames, c.fps) for c in clip_io.iter_real(real, real_rows, size)))
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / "probes"
    bar = tqdm(total=budget, desc="calibrate --tune: probes", unit="probe", disable=not progress)

    def score(centres: np.ndarray) -> float:
        overrides = {**ranges_from_centres(ranges, centres, bounds), "clips": probe_clips, "seed": seed}
        spec = load_spec(path=spec_path, overrides=overrides)
        folder = scratch / f"probe{bar.n:03d}"
        shutil.rmtree(folder, ignore_errors=True)
        generate_dataset(spec, folder, workers=workers, progress=False)
        reader = DatasetReader(folder)
        stats = _statistics_matrix((reader.read(i)[0], float(base.fps)) for i in range(len(reader)))
        shutil.rmtree(folder, ignore_errors=True)
        bar.update(1)
        return scorer(stats)

    start = np.asarray([(lo + hi) / 2 for lo, hi in ranges.values()])
    scale = np.asarray([search_scale(name, lo, hi, bounds[name]) for name, (lo, hi) in ranges.items()])
    probes = cross_entropy_search(score, start, scale, np.random.default_rng(seed), budget=budget)
    bar.close()
    shutil.rmtree(scratch, ignore_errors=True)
    best = min(probes, key=lambda p: p["score"])
    tuned = ranges_from_centres(ranges, np.asarray(best["centres"]), bounds)
    calibrated = load_spec(path=spec_path, overrides=tuned)
    header = (f"# calibrated by `simgen calibrate --tune` against {real}: {len(probes)} probes of {probe_clips} clips; "
              f"gap (MMD² of low-level statistics) {probes[0]['score']:.4f} -> {best['score']:.4f}\n")
    (out / "calibrated.yaml").write_text(header + yaml.safe_dump(calibrated.model_dump(mode="json"), sort_keys=False))
    result = dict(factors={n: dict(before=list(r), after=tuned[n]) for n, r in ranges.items()},
                  gap_before=probes[0]["score"], gap_after=best["score"], probes=probes, probe_clips=probe_clips,
                  score="unbiased MMD² between z-scored low-level statistics of probe and real clips (" + ", ".join(SCORED) + ")")
    (out / "tuning.json").write_text(json.dumps(result, indent=1))
    _write_tuning_page(out / "tuning.html", result)
    return result


def _write_tuning_page(path: Path, result: dict) -> None:
    from simgen.adapt.calibrate import figures
    from simgen.adapt.calibrate.html import image, page, table

    rows = [[name, f"[{r['before'][0]:.4g}, {r['before'][1]:.4g}]", f"[{r['after'][0]:.4g}, {r['after'][1]:.4g}]"]
            for name, r in result["factors"].items()]
    summary = (f"<p>Gap ({result['score']}): {result['gap_before']:.4f} before, {result['gap_after']:.4f} after, "
               f"{len(result['probes'])} probes of {result['probe_clips']} clips.</p>")
    path.write_text(page("simgen calibration tuning", [
        ("Factor ranges before and after", summary + table(["factor", "before", "after"], rows)),
        ("Tuning curve", image(figures.tuning_curve([p["score"] for p in result["probes"]]), "tuning curve")),
    ]))


def _is_range(data: dict, name: str) -> bool:
    try:
        tunable_ranges(data, [name])
        return True
    except SimgenError:
        return False
