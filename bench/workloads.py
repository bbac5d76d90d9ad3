"""The objects being versioned: a float32 model of a given size (a torch module when torch
is installed, else a dict of numpy tensors), its 1 % edit, and a notebook-sized state."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np

LAYERS = 32  # ~30 tensors of equal size, as the issue asks


@dataclass
class Model:
    obj: Any  # what gets committed
    kind: str  # "torch" or "numpy"
    tensors: list[np.ndarray]  # numpy views of every weight, in order (no copies)

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    def buffers(self) -> list[memoryview]:
        return [memoryview(t).cast("B") for t in self.tensors]


def _shape(total_bytes: int) -> tuple[int, int]:
    per_layer = total_bytes // LAYERS // 4
    cols = 4096 if per_layer >= 4096 * 64 else 256
    return max(1, per_layer // cols), cols


def build_model(total_bytes: int, use_torch: bool | None = None, seed: int = 0) -> Model:
    """Random (incompressible) float32 weights totalling about `total_bytes`."""
    if use_torch is None:
        use_torch = importlib.util.find_spec("torch") is not None
    rows, cols = _shape(total_bytes)
    rng = np.random.default_rng(seed)
    if use_torch:
        import torch

        layers = [torch.nn.Linear(cols, rows, bias=False) for _ in range(LAYERS)]
        with torch.no_grad():
            for layer in layers:
                layer.weight.copy_(torch.from_numpy(rng.standard_normal((rows, cols), dtype=np.float32)))
        module = torch.nn.Sequential(*layers)
        tensors = [layer.weight.detach().numpy() for layer in layers]
        return Model(module, "torch", tensors)
    arrays = {f"layer{i}.weight": rng.standard_normal((rows, cols), dtype=np.float32) for i in range(LAYERS)}
    return Model(arrays, "numpy", list(arrays.values()))


def edit_one_percent(model: Model, step: int) -> int:
    """Change 1 % of all weights in one contiguous slice of one middle layer, in place;
    a different value each `step` so every edit is new content. Returns elements changed."""
    total = sum(t.size for t in model.tensors)
    n = max(1, total // 100)
    target = model.tensors[len(model.tensors) // 2].reshape(-1)
    n = min(n, target.size)
    start = (target.size - n) // 2
    target[start : start + n] += np.float32(1e-3 * (step + 1))
    return n


def notebook_state(array_bytes: int, trees: int, seed: int = 0) -> dict[str, Any]:
    """A notebook's worth of variables: a big float64 array and a fitted random forest."""
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(seed)
    data = rng.standard_normal(array_bytes // 8)
    X = rng.standard_normal((2000, 20))
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.standard_normal(2000) * 0.3 > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=1).fit(X, y)
    return {"data": data, "forest": forest}


def change_values(array: np.ndarray, count: int, scattered: bool, step: int, seed: int = 1) -> None:
    """Change `count` values in place: at random positions, or in one contiguous run."""
    flat = array.reshape(-1)
    if scattered:
        idx = np.random.default_rng(seed + step).choice(flat.size, size=min(count, flat.size), replace=False)
    else:
        start = (flat.size // 3) % max(1, flat.size - count)
        idx = np.arange(start, start + min(count, flat.size))
    flat[idx] += 1.0 + step
