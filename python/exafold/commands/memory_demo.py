"""``exafold memory-demo``: the migratable-memory layer at work on this machine."""

from __future__ import annotations

import argparse

import numpy as np

import exafold


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "memory-demo",
        help="allocate, migrate and cache tensors, and show what was copied or elided",
    )
    p.add_argument("--residues", type=int, default=256, help="pair representation size S (S x S x 128)")
    p.set_defaults(func=run)


def _mib(n: int) -> str:
    return f"{n / 2**20:8.1f} MiB"


def run(args: argparse.Namespace) -> int:
    s = args.residues
    target = "cuda:0" if exafold.gpu_count() > 0 else "cpu"
    exafold.reset_migrate_stats()
    print(f"exafold memory demo: pair tensor {s} x {s} x 128 float32, migrating to {target}")

    with exafold.MigratableMemory():
        pair = exafold.empty([s, s, 128], "float32")
    print(f"  allocated inside MigratableMemory: {pair.memory_kind} memory on {pair.device}")
    np.asarray(pair)[...] = 1.0
    moved = exafold.migrate(pair, target)
    print(f"  migrate(pair, {target!r}) -> {moved.device}, same memory: {moved.data_ptr == pair.data_ptr}")
    st = exafold.migrate_stats()
    print(f"  migrate counters: {st['copies']} copies, {st['elided']} elided, {st['bytes_moved']} bytes moved")

    before = exafold.memory_stats()
    for _ in range(10):  # the allocation pattern of a block: same sizes again and again
        a = exafold.empty([s, s, 128], "float32")
        b = exafold.empty([s, s, 32], "float32")
        del a, b
    after = exafold.memory_stats()
    print("  ten rounds of block-sized allocations on cpu/host:")
    print(f"    cache hits {after['cache_hits'] - before['cache_hits']} of "
          f"{after['allocations'] - before['allocations']} allocations, "
          f"segments from the system {after['system_allocs'] - before['system_allocs']}")
    print(f"    in use {_mib(after['in_use'])}, peak {_mib(after['peak_in_use'])}, reserved {_mib(after['reserved'])}")

    exafold.set_memory_limit(after["reserved"])
    try:  # a request larger than everything reserved cannot fit under that limit
        exafold.empty([after["reserved"] // 2], "float32")
    except MemoryError as e:
        print(f"  with a limit of {_mib(after['reserved']).strip()}: MemoryError: {e}")
    finally:
        exafold.set_memory_limit(0)
    del pair, moved
    exafold.empty_cache()
    print(f"  after empty_cache(): reserved {_mib(exafold.memory_stats()['reserved']).strip()}")
    return 0
