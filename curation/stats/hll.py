"""HyperLogLog++ distinct counts (Heule et al. 2013; dense registers, precision 14) for the statistics.

Our own sketch, not datasketch's: importing datasketch imports its whole package (LSH, asyncio
storage, scipy.integrate), ~0.35 CPU-s in the driver and again in every Ray worker. Registers and
estimates are the ones datasketch's ``HyperLogLogPlusPlus(p=14)`` gives for the same 64-bit hashes
(``tests/test_stats.py`` compares them), so the figures of earlier runs stay the same. Sketches travel
from tasks to the driver pickled (a 16 KiB register array) and merge by register max.
"""

from __future__ import annotations

import numpy as np

from curation.stats.hll_bias import BIASES, RAW_ESTIMATES, THRESHOLD

P = 14
"""2**14 registers: ~0.8% standard error on distinct counts, 16 KiB per sketch."""
M = 1 << P
ALPHA = 0.7213 / (1.0 + 1.079 / M)
"""Flajolet et al.'s (2007) bias constant of the raw estimate for m >= 128 registers."""
NEIGHBOURS = 6
"""The raw estimate's bias is the mean bias of the 6 nearest measured estimates (the paper's k-NN)."""
_RAW_ESTIMATES = np.array(RAW_ESTIMATES)
_BIASES = np.array(BIASES)


class HyperLogLog:
    """Registers of a set of 64-bit hashes: ``add`` them, ``merge`` another sketch, ``count``."""

    def __init__(self) -> None:
        self.registers = np.zeros(M, np.int8)

    def add(self, hashes: np.ndarray) -> None:
        """Add uint64 hashes: a hash's low ``P`` bits pick its register, which keeps the largest rank
        (1 + the leading zeros of the other 64 - ``P`` bits) seen."""
        hashes = np.asarray(hashes, np.uint64)
        rest = (hashes >> np.uint64(P)).astype(np.float64)  # < 2**50: exact as a float
        bit_length = np.frexp(rest)[1]  # rest = f * 2**e with 0.5 <= f < 1, e = 0 for 0
        ranks = (64 - P + 1 - bit_length).astype(np.int8)
        np.maximum.at(self.registers, (hashes & np.uint64(M - 1)).astype(np.intp), ranks)

    def merge(self, other: HyperLogLog) -> None:
        """Make this sketch the union of both (register by register maximum)."""
        self.registers = np.maximum(self.registers, other.registers)

    def count(self) -> float:
        """The estimated number of distinct hashes: linear counting while registers are empty and it
        is below ``THRESHOLD``, else the raw estimate less its bias (up to 5m) or the raw estimate."""
        empty = M - np.count_nonzero(self.registers)
        if empty:
            linear = M * np.log(M / float(empty))
            if linear <= THRESHOLD:
                return float(linear)
        raw = ALPHA * float(M * M) / np.sum(2.0 ** (-self.registers))
        if raw > 5 * M:
            return float(raw)
        nearest = np.argsort((raw - _RAW_ESTIMATES) ** 2)[:NEIGHBOURS]
        return float(raw - np.mean(_BIASES[nearest]))
