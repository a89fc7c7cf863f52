"""``simgen calibrate --tune``: search a spec's factor ranges to shrink the gap to real footage.

The cross-entropy method (Rubinstein 1999; de Boer et al., "A Tutorial on the Cross-Entropy
Method", 2005) over the *centres* of the chosen ``[low, high]`` ranges (each keeps its width, and
stays inside the bounds the spec accepts): each round draws a few candidate specs from a Gaussian,
generates a small probe batch of each, scores it, and refits the Gaussian to the best half.

The score of a probe has two terms. (1) The unbiased MMD² between its clips' low-level statistics
(person box, brightness, contrast, saturation, sharpness, noise, motion; :mod:`.lowlevel`) and the
real clips', z-scored with the real set's statistics and a Gaussian kernel whose width is fixed from
the real set, so that every probe is measured on one scale. (2) A framing term: the 1-Wasserstein
distances between the probe's and the real clips' distributions of the label-free person height and
head row (share of the frame), in tenths of the frame. The MMD² alone hardly moves between framings
0.6 and 1.0 (twelve statistics, most of them indifferent to framing, on 8-frame probes); the framing
term has its minimum within 0.05 of the truth there (``scripts/calibrate_framing_scan.py``).

Every probe of a search uses the same seed (common random numbers: the same backgrounds, actions and
views, only the tuned factors differ), so two probes differ by what is tuned, not by what was drawn.
Every random draw comes from the Generator passed in.
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


#: clips per probe batch. Each probe is compared with the real clips through a sample of clips, and with common
#: random numbers every probe shows the same sample, so its sampling error is a fixed bias of the whole search.
#: On the framing stand-ins (tests/adapt/test_calibrate_tune.py, seeds 0-2, truths 0.85 and 0.65) 16 clips put
#: one of six searches 0.103 from the truth (0.747 for 0.85); 32 put all six within 0.055 (2026-12-01).
PROBE_CLIPS = 32

#: the framing term's unit: a W1 of a tenth of the frame height weighs 1 (an MMD² of 1 is a complete mismatch)
FRAMING_UNIT = 0.1


def _framing_columns(stats: np.ndarray) -> list[np.ndarray]:
    """Per clip, the person height and the head row (box top = lowest row - height; both share of frame height),
    finite values only. The top is the steadier of the two: textured ground stretches the box's lower edge."""
    height, bottom = stats[:, SCORED.index("person_height")], stats[:, SCORED.index("person_bottom")]
    return [v[np.isfinite(v)] for v in (height, bottom - height)]


def framing_distance(probe: np.ndarray, real: np.ndarray) -> float:
    """Σ of the 1-Wasserstein distances of person height and head row between the two sets, in FRAMING_UNITs
    (a column with no person found in either set counts as 1 unit: nothing to match)."""
    from scipy.stats import wasserstein_distance

    total = 0.0
    for a, b in zip(_framing_columns(probe), _framing_columns(real)):
        total += wasserstein_distance(a, b) / FRAMING_UNIT if len(a) and len(b) else 1.0
    return float(total)


def _statistics_matrix(frames_iter) -> np.ndarray:
    rows = []
    for frames, fps in frames_iter:
        s = clip_statistics(frames, fps, None)
        rows.append([np.nan if s[k] is None else s[k] for k in SCORED])
    return np.asarray(rows, dtype=np.float64)


class ProbeScorer:
    """MMD² of a probe's statistics to the real clips' on the real set's fixed scale, plus (``framing=True``)
    :func:`framing_distance`."""

    def __init__(self, real_stats: np.ndarray, framing: bool = True):
        self.raw, self.framing = real_stats, framing
        finite = np.where(np.isfinite(real_stats), real_stats, np.nanmean(real_stats, axis=0))
        self.mean = finite.mean(0)
        self.std = np.maximum(finite.std(0), 1e-6 + 0.05 * np.abs(self.mean))  # a constant statistic still scales
        self.real = (finite - self.mean) / self.std
        self.bandwidth = median_bandwidth(self.real, self.real)

    def __call__(self, stats: np.ndarray) -> float:
        z = (np.where(np.isfinite(stats), stats, self.mean) - self.mean) / self.std  # no person found: counts as typical
        score = mmd_squared(z, self.real, self.bandwidth)
        return score + framing_distance(stats, self.raw) if self.framing else score


def cross_entropy_search(score, start: np.ndarray, scale: np.ndarray, rng: np.random.Generator, *, budget: int,
                         population: int = 4, elites: int = 2, floor: float = 0.2,
                         bounds: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict]:
    """Minimise ``score(centres)`` with ``budget`` calls; returns every probe as ``{round, centres, score}``.

    The first probe is ``start`` itself (the gap before tuning). Each round draws ``population``
    candidates from N(mean, diag(sd²)); the new mean is the mean of the ``elites`` best of that round
    and the best probe so far. Budgets here are tiny (20 probes), so the spread is kept from collapsing:
    sd = max(the elites' spread, the step the mean just took, ``floor`` × ``scale``). On a 2-D bowl
    3.2 units from the start, 40 probes end 0.54 from the minimum (median of seeds 0-9).

    With finite ``bounds`` the first round is a Latin hypercube over them (McKay, Beckman & Conover 1979):
    a footage gap often lies far outside the spec's range, and a Gaussian round from the start reaches
    it only after many rounds (20 probes from framing 0.4 never passed 0.76 towards a truth at 0.85).
    """
    probes = [dict(round=0, centres=start.tolist(), score=float(score(start)))]
    mean, sd = start.astype(np.float64).copy(), scale.astype(np.float64).copy()
    round_ = 0
    while len(probes) < budget:
        round_ += 1
        count = min(population, budget - len(probes))
        candidates = mean + sd * rng.standard_normal((count, len(mean)))
        if round_ == 1 and bounds is not None:
            lo, hi = (np.asarray(b, dtype=np.float64) for b in bounds)
            finite = np.isfinite(lo) & np.isfinite(hi)
            strata = (np.stack([rng.permutation(count) for _ in mean], axis=1) + rng.uniform(size=(count, len(mean)))) / count
            candidates = np.where(finite, lo + strata * (hi - lo), candidates)
        fresh = [dict(round=round_, centres=c.tolist(), score=float(score(c))) for c in candidates]
        probes += fresh
        pool = sorted(fresh + [min(probes, key=lambda p: p["score"])], key=lambda p: p["score"])
        elite = np.asarray([p["centres"] for p in pool[:elites]])
        new_mean = elite.mean(0)
        sd = np.maximum(np.maximum(elite.std(0), np.abs(new_mean - mean)), floor * scale)
        mean = new_mean
    return probes


#: two probes whose true person boxes (mean height, share of the frame) differ by less than this frame alike
#: (half a pixel of a 48-pixel frame: on the keep_framed plateau probes differ by about 0.005)
SAME_FRAMING = 0.01
FRACTION = "camera.actor_height_fraction"


def true_framing(reader) -> float:
    """Mean over a probe's clips of the median over frames of the rendered person box height / frame height."""
    shares = []
    for i in range(len(reader)):
        ann = reader.read_annotations(i)
        boxes = np.asarray(ann.get("bbox") or [], dtype=np.float64)
        if boxes.ndim == 2 and len(boxes):
            shares.append(float(np.median(boxes[:, 3] - boxes[:, 1])) / float(ann["size"][1]))
    return float(np.mean(shares)) if shares else float("nan")


def least_zoom_equivalent(probes: list[dict], names: list[str], scale: np.ndarray | None = None) -> dict:
    """The best probe, or, when a probe with a smaller actor_height_fraction and otherwise the same centres
    (within a tenth of each search scale) frames the person alike (true box heights within SAME_FRAMING),
    the one of those with the smallest fraction.

    With keep_framed the camera backs off until the whole body fits, so beyond some fraction (about 0.8 for
    the demo spec: true box 0.73-0.74 of the frame from 0.8 to 1.0) every value renders the same clips, and
    the best score among them is noise. The calibrated range should say the framing the clips have. Probes
    that differ in another factor are not the same clips, so they never stand in for the best."""
    best = min(probes, key=lambda p: p["score"])
    if FRACTION not in names or not np.isfinite(best.get("framing", np.nan)):
        return best
    k = names.index(FRACTION)
    scale = np.ones(len(names)) if scale is None else np.asarray(scale, dtype=np.float64)
    others = [i for i in range(len(names)) if i != k]

    def same_elsewhere(p: dict) -> bool:
        return all(abs(p["centres"][i] - best["centres"][i]) <= 0.1 * scale[i] for i in others)

    alike = [p for p in probes if abs(p.get("framing", np.nan) - best["framing"]) < SAME_FRAMING
             and p["centres"][k] < best["centres"][k] and same_elsewhere(p)]
    return min(alike, key=lambda p: p["centres"][k]) if alike else best


def tune_spec(spec_path: Path, real: Path, out: Path, *, budget: int, factors: list[str] | None = None,
              probe_clips: int = PROBE_CLIPS, seed: int = 0, workers: int = 1, progress: bool = True,
              real_rows: list[dict] | None = None, framing_term: bool = True) -> dict:
    """Tune ``spec_path``'s factor ranges against the real clips in ``real`` (only ``real_rows`` of them when
    given: a fold's training subjects); write OUT/calibrated.yaml and OUT/tuning.json."""
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
    real_rows = clip_io.list_real(real) if real_rows is None else real_rows
    clip_io.check_real_decodable(real, real_rows)
    size = int(min(base.size)) if isinstance(base.size, (list, tuple)) else int(base.size)
    scorer = ProbeScorer(_statistics_matrix((c.frames, c.fps) for c in clip_io.iter_real(real, real_rows, size)),
                         framing=framing_term)
    framings: dict[tuple, float] = {}
    failures: dict[tuple, str] = {}
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / "probes"
    bar = tqdm(total=budget, desc="calibrate --tune: probes", unit="probe", disable=not progress)

    def score(centres: np.ndarray) -> float:
        overrides = {**ranges_from_centres(ranges, centres, bounds), "clips": probe_clips, "seed": seed}
        spec = load_spec(path=spec_path, overrides=overrides)
        folder = scratch / f"probe{bar.n:03d}"
        shutil.rmtree(folder, ignore_errors=True)
        key = tuple(np.asarray(centres, dtype=np.float64).tolist())
        try:
            generate_dataset(spec, folder, workers=workers, progress=False)
        except SimgenError as err:
            # a corner of the search space the generator refuses (e.g. too fast for the physics to track):
            # the worst possible probe, not the end of the search
            failures[key] = str(err)
            shutil.rmtree(folder, ignore_errors=True)
            bar.update(1)
            return float("inf")
        reader = DatasetReader(folder)
        stats = _statistics_matrix((reader.read(i)[0], float(base.fps)) for i in range(len(reader)))
        framings[key] = true_framing(reader)
        shutil.rmtree(folder, ignore_errors=True)
        bar.update(1)
        return scorer(stats)

    start = np.asarray([(lo + hi) / 2 for lo, hi in ranges.values()])
    scale = np.asarray([search_scale(name, lo, hi, bounds[name]) for name, (lo, hi) in ranges.items()])
    # the centres a range can take: its bounds, pulled in by half its width
    halves = np.asarray([(hi - lo) / 2 for lo, hi in ranges.values()])
    lows = np.asarray([bounds[n][0] for n in ranges]) + halves
    highs = np.asarray([bounds[n][1] for n in ranges]) - halves
    probes = cross_entropy_search(score, start, scale, np.random.default_rng(seed), budget=budget, bounds=(lows, highs))
    bar.close()
    shutil.rmtree(scratch, ignore_errors=True)
    for p in probes:
        p["framing"] = framings.get(tuple(p["centres"]), float("nan"))
    if not np.isfinite(probes[0]["score"]):
        raise SimgenError(f"--spec {spec_path}: the spec as given cannot be generated: {failures[tuple(probes[0]['centres'])]}")
    best = least_zoom_equivalent(probes, list(ranges), scale)
    tuned = ranges_from_centres(ranges, np.asarray(best["centres"]), bounds)
    calibrated = load_spec(path=spec_path, overrides=tuned)
    header = (f"# calibrated by `simgen calibrate --tune` against {real} ({len(real_rows)} clips): {len(probes)} probes of "
              f"{probe_clips} clips; gap (MMD² of low-level statistics + framing) {probes[0]['score']:.4f} -> {best['score']:.4f}\n")
    (out / "calibrated.yaml").write_text(header + yaml.safe_dump(calibrated.model_dump(mode="json"), sort_keys=False))
    for p in probes:  # JSON has no infinity: a refused probe has no score, and says why
        if tuple(p["centres"]) in failures:
            p["score"], p["failed"] = None, failures[tuple(p["centres"])]
    result = dict(factors={n: dict(before=list(r), after=tuned[n]) for n, r in ranges.items()},
                  gap_before=probes[0]["score"], gap_after=best["score"], probes=probes, probe_clips=probe_clips,
                  probes_failed=len(failures),
                  real_clips=[r["path"] for r in real_rows],
                  score="unbiased MMD² between z-scored low-level statistics of probe and real clips (" + ", ".join(SCORED) + ")"
                        + (f" + W1 of person height and head row in units of {FRAMING_UNIT} frame" if framing_term else ""))
    (out / "tuning.json").write_text(json.dumps(result, indent=1))
    _write_tuning_page(out / "tuning.html", result)
    return result


def _write_tuning_page(path: Path, result: dict) -> None:
    from simgen.adapt.calibrate import figures
    from simgen.adapt.calibrate.html import image, page, table

    rows = [[name, f"[{r['before'][0]:.4g}, {r['before'][1]:.4g}]", f"[{r['after'][0]:.4g}, {r['after'][1]:.4g}]"]
            for name, r in result["factors"].items()]
    summary = (f"<p>Gap ({result['score']}): {result['gap_before']:.4f} before, {result['gap_after']:.4f} after, "
               f"{len(result['probes'])} probes of {result['probe_clips']} clips"
               + (f"; {result['probes_failed']} could not be generated (no score; reasons in tuning.json)" if result.get("probes_failed") else "")
               + ".</p>")
    path.write_text(page("simgen calibration tuning", [
        ("Factor ranges before and after", summary + table(["factor", "before", "after"], rows)),
        ("Tuning curve", image(figures.tuning_curve([np.inf if p["score"] is None else p["score"] for p in result["probes"]]),
                               "tuning curve")),
    ]))


def _is_range(data: dict, name: str) -> bool:
    try:
        tunable_ranges(data, [name])
        return True
    except SimgenError:
        return False
