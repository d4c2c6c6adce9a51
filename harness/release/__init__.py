"""Release trust: what makes a report from another machine count, and the sign-off.

Signing (SSH signatures over canonical JSON), evidence (a report's claims checked against this
machine's bundle and exports), recompute (every gate recomputed from the measurements with the
local policy), merge (reports from several machines into one) and sign-off (the full matrix,
every gate, every waiver). It sits above `harness.report`, whose model, schema and writer it
uses; the report never needs to know a release exists.
"""
