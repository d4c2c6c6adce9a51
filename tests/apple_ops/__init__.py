"""Apple's own MIL op tests (shipped in the coremltools wheel) replayed against coreml-ref.

`plugin` swaps coremltools' do-nothing-on-Linux `compare_backend` for a run in coreml-ref,
`check` is that comparison (Apple's tolerances), `replay` is the command that runs the suite.
"""
