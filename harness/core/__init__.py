"""The core every layer shares: errors, paths, configuration, hashing, atomic files and the bundle,
artifact, tokenizer and case formats. It imports nothing from runtimes/ or the rest of harness/,
and no framework."""
