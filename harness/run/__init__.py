"""Running bundles on runtimes: engines with failure isolation, predict and tokenize."""
