"""Training crops made by a separate process while the network trains, kept in a pool.

On a two-core machine synthesis and training fit side by side: one process ages photos, the
trainer keeps a pool of finished crops and swaps in what arrives between steps, so every batch
mixes older and fresh samples and the trainer never waits. Also the learning-rate schedule
both trainers use, which follows the clock rather than a step count, so a run of any length
ends annealed.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import queue
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np

#: ``make(rng) -> tuple of arrays``, the same shapes every time.
Maker = Callable[[np.random.Generator], tuple]


def _produce(factory, seed: int, out: mp.Queue, stop) -> None:
    import torch

    torch.set_num_threads(1)
    make = factory()
    rng = np.random.default_rng(seed)
    while not stop.is_set():
        item = make(rng)
        while not stop.is_set():
            try:
                out.put(item, timeout=0.5)
                break
            except queue.Full:
                continue


class CropPool:
    """``size`` samples from ``factory()`` (a picklable callable returning a :data:`Maker`),
    refreshed by ``producers`` processes."""

    def __init__(self, factory, size: int, seed: int, producers: int = 1) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        make = factory()
        first = make(self.rng)
        self.arrays = [np.zeros((size,) + a.shape, a.dtype) for a in first]
        ctx = mp.get_context("fork")
        self.fresh: mp.Queue = ctx.Queue(maxsize=256)
        self.stop = ctx.Event()
        self.processes = [ctx.Process(target=_produce, args=(factory, seed + 1 + i, self.fresh, self.stop), daemon=True)
                          for i in range(producers)]
        for process in self.processes:
            process.start()
        self._put(0, first)
        for slot in range(1, size):  # the first fill: the producers and this process together
            try:
                item = self.fresh.get_nowait()
            except queue.Empty:
                item = make(self.rng)
            self._put(slot, item)

    def _put(self, slot: int, item: tuple) -> None:
        for array, value in zip(self.arrays, item):
            array[slot] = value

    def refresh(self, most: int = 8) -> int:
        """Swap up to ``most`` fresh samples into random slots; returns how many arrived."""
        swapped = 0
        for _ in range(most):
            try:
                item = self.fresh.get_nowait()
            except queue.Empty:
                break
            self._put(int(self.rng.integers(self.size)), item)
            swapped += 1
        return swapped

    def batch(self, count: int) -> list[np.ndarray]:
        picks = self.rng.integers(0, self.size, count)
        return [array[picks] for array in self.arrays]

    def close(self) -> None:
        self.stop.set()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


def clock_lr(base: float, step: int, fraction: float, warmup: int = 300) -> float:
    """Warm-up over ``warmup`` steps, then a cosine from ``base`` to 5 % of it as ``fraction``
    of the run's minutes goes from 0 to 1."""
    warm = min(1.0, (step + 1) / warmup)
    return base * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, fraction))))


def save_checkpoint(path: Path, model, optimiser, step: int, seconds: float, config, args, **notes) -> None:
    """A training checkpoint (weights, optimiser, step, seconds of clock, the network's config,
    the command's arguments and ``notes``), written beside and renamed so a stop never leaves half."""
    import torch

    state = {"model": model.state_dict(), "optimiser": optimiser.state_dict(), "step": step, "seconds": seconds,
             "config": asdict(config), "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
             **notes}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
