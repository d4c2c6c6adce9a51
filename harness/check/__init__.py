"""Checks: comparisons under the tolerance policy, golden files, divergences, properties, gates."""
