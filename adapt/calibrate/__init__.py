"""Realism calibration: how far synthetic clips are from real footage, and which factors cause it.

``run_calibration`` (``simgen calibrate``) loads both sets (:mod:`.clips`), measures low-level
statistics per clip (:mod:`.lowlevel`, :mod:`.person`), extracts clip features (:mod:`.features`),
compares the sets with bootstrap intervals (:mod:`.distances`), ranks the synthetic factors by how
their bins differ from the real footage (:mod:`.per_factor`), and writes a self-contained HTML report
(:mod:`.figures`, :mod:`.html`) and ``metrics.json``. Entry point: :func:`simgen.adapt.calibrate.report.run_calibration`.
"""
