"""Curves to compare against, kept with a trial version: the reference solution's metric series.

The cohort's median curve is computed from stored runs (`huashen.grading.curves`); the reference's is
recorded once per trial version (`manage.py record_reference_curve`) and stored here.
"""
