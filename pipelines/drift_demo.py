"""The drift monitor on perturbed copies of real clips: does it flag shifted streams and not a clean one?

Splits a real folder by person into a reference (``--reference-subjects``) and a stream
(``--stream-subjects``), writes the reference and a clean copy of the stream, plus one copy of the
stream per perturbation and level of :data:`simgen.adapt.perturb.PERTURBATIONS`, all through the
same H.264 encoder (CRF 12, as the source clips), then runs ``simgen monitor``'s
:func:`~simgen.adapt.monitor.run_monitor` on each stream against the reference and writes
``OUT/flag_table.md`` and ``OUT/summary.json``::

    python -m simgen.pipelines.drift_demo --checkpoint /work/data/w4_acc/model/model.pt \\
        --real ../shared/data/weizmann4_dev --reference-subjects s0,s1,s2 --stream-subjects s3,s4 --out runs/drift
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

CRF = 12  # the weizmann4_dev clips' own encoding


def write_copy(reader, rows: list[int], out: Path, perturb: tuple[str, float] | None, seed: int) -> Path:
    """Re-encode the clips ``rows`` of ``reader`` into ``out`` (with ``labels.csv``), perturbed when asked."""
    from simgen.adapt.perturb import PERTURBATIONS, apply_perturbation
    from simgen.video import encode_mp4

    out.mkdir(parents=True, exist_ok=True)
    lines = ["path,label,subject"]
    for i in rows:
        frames, ann = reader.read(i)
        fps = float(ann.get("fps") or 25.0)
        if perturb is not None:
            kind, level = perturb
            rng = np.random.default_rng([seed, i, list(PERTURBATIONS).index(kind), int(round(level * 1000))])
            frames, fps = apply_perturbation(frames, fps, kind, level, rng)
        name = Path(reader.rows[i]["path"]).name
        (out / name).write_bytes(encode_mp4(np.ascontiguousarray(frames), fps, crf=CRF))
        lines.append(f"{name},{ann.get('label') or ''},{ann.get('subject') or ''}")
    (out / "labels.csv").write_text("\n".join(lines) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    from simgen.adapt.monitor import flag_table, run_monitor
    from simgen.adapt.perturb import PERTURBATIONS
    from simgen.train.data.real import RealFolderReader

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--real", required=True)
    p.add_argument("--reference-subjects", required=True)
    p.add_argument("--stream-subjects", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--kinds", default=",".join(PERTURBATIONS))
    p.add_argument("--permutations", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    t0 = time.time()
    ref_reader = RealFolderReader(args.real, subjects=args.reference_subjects.split(","))
    stream_reader = RealFolderReader(args.real, subjects=args.stream_subjects.split(","))
    reference = write_copy(ref_reader, list(range(len(ref_reader))), out / "data" / "reference", None, args.seed)
    kinds = [k for k in args.kinds.split(",") if k]
    streams = [("clean", None)] + [(f"{k} {lv:g}", (k, lv)) for k in kinds for lv in PERTURBATIONS[k]]
    rows, summary = [], {}
    for name, perturb in streams:
        folder = write_copy(stream_reader, list(range(len(stream_reader))), out / "data" / name.replace(" ", "_"),
                            perturb, args.seed)
        report = run_monitor(args.checkpoint, reference, folder, out / "reports" / name.replace(" ", "_"),
                             permutations=args.permutations, seed=args.seed)
        rows.append((name, report))
        summary[name] = dict(flagged=report["flagged"], accuracy=report["stream_accuracy_where_labelled"],
                             novel_clips=report["novel_clips"],
                             p_values={k: v["p_value"] for k, v in report["statistics"].items()})
        print(f"{name}: {'FLAGGED' if report['flagged'] else 'not flagged'} "
              f"{ {k: round(v['p_value'], 4) for k, v in report['statistics'].items()} }", file=sys.stderr)
    table = flag_table(rows)
    acc = "\n".join(f"- {n}: stream accuracy {100 * s['accuracy']:.0f}%" for n, s in summary.items()
                    if s["accuracy"] is not None)
    (out / "flag_table.md").write_text(table + "\n\n" + acc + "\n")
    (out / "summary.json").write_text(json.dumps(dict(
        checkpoint=args.checkpoint, real=args.real, reference_subjects=args.reference_subjects,
        stream_subjects=args.stream_subjects, permutations=args.permutations, seed=args.seed,
        seconds=round(time.time() - t0, 1), streams=summary), indent=1))
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
