"""Files `harness repro` copies into a reproducer folder (run with nothing but their own folder).

They import nothing of the harness: a reproducer is for an upstream bug report, where the
harness is not installed.
"""
