"""Trial content: one folder per realm (`<nn>-<slug>/realm.toml`), one bundle per trial inside it.

Bundles are data for the grader, read by path; this package holds only the shared grading kit that
probes and checks import. It imports nothing else of the repository.
"""
