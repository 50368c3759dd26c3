"""The coach: names famous PyTorch mistakes in a student's source before anything runs.

`analysis.code_analyze(code)` parses (never runs) the code and returns findings; `catalogue.RULES` says
what each rule means, why, in zh and en, and which trial teaches it. Findings are advice, never a score.
"""
