"""The distillation runner: inputs, the prefetch pipeline, shards and journal, resume, MPI
scale-out, staging, progress and the run summary. The model and the feature pipeline are
injected (contracts in exafold.runner.worker); ``exafold distill`` is the command line.
"""
