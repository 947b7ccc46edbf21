"""synthese: local, traceable synthesis of free-text consultation answers."""

import os

# Themes must not depend on the machine. UMAP and pynndescent run numba code compiled for
# the host CPU by default, and its fast-math sums come out in another order with other
# SIMD features: the same 851 vectors gave 32 themes compiled for this machine, 31 for an
# AVX2-only CPU and 38 for a generic x86-64 one, and a new machine failed the digest test
# (docs/quality.md). Compiled for a generic CPU, they are the same on every machine, for
# the same speed here (10,000 points: 30.1 s against 32.1 s). Set before numba is
# imported, which reads it once; an explicit NUMBA_CPU_NAME is left as it is.
os.environ.setdefault("NUMBA_CPU_NAME", "generic")

__version__ = "0.1.0"
