"""The Core AI worker: a process in `.venv-coreai` that converts and runs `.aimodel` files.

Apple's `coreai-core` needs numpy >= 2.3 and TensorFlow 2.19 needs numpy < 2.2, so Core AI
cannot live in the harness's `.venv`. Everything in this package therefore runs in the other
environment and imports only the standard library, numpy and (in `apple` alone) Apple's
packages, torch and Keras: never `harness`, whose dependencies are not installed there.
`runtimes.coreai_client` starts it and speaks `protocol` with it over stdin/stdout.
"""
