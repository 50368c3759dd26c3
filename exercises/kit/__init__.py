"""The shared grading kit that every trial's probe and check use.

Two halves, on two sides of the sandbox wall:

- `exercises.kit.probe` runs **inside** the sandbox, in the same process as the student's code. The
  grader's harness calls `run_probe(work, out, mode, device)`; the trial's `probe.py` receives a
  `ProbeContext` and writes *observations* (JSON values and numpy arrays) into the out folder.
  `exercises.kit.report` is what student code imports to draw live charts.
- `exercises.kit.check` runs **outside**, trusted, in the grader. `run_check(bundle, out, mode)` loads
  the (untrusted) observations with the safe loaders of `exercises.kit.observations` and lets the
  trial's `check.py` score them against expectations that never entered the sandbox.

`exercises.kit.data` generates deterministic inputs that both sides can rebuild from a seed.

The kit imports only the standard library, numpy and (lazily, on the probe side) torch; never Django,
`huashen` or `workers`. This package module imports nothing, so `from exercises.kit.report import
report` stays cheap in student code.
"""
