"""Practice on a trial: the student's server-side draft, the hints they revealed, and what they did when.

Drafts and hint reveals are the state of the trial page; activity events (opened, draft saved, hint
revealed, run, submit) are what instructors' time-on-task reports read.
"""
