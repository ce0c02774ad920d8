"""Quality metrics, in one place so training, quantization and evaluation agree.

Binary classification (person detection): accuracy, precision, recall, F1 from the
confusion counts. Wake Vision reports F1 = 2TP / (2TP + FP + FN) per fine-grained subset
and plain accuracy as the headline.

Regression (speech emotion): Lin's concordance correlation coefficient per dimension,
computed over the whole set (not per clip) with *population* (ddof=0) variances, exactly
as audEERING's `audmetric.concordance_cc` does; and the mean absolute error.
"""

from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, int]:
    """TP/FP/TN/FN for binary labels (1 = positive)."""
    t = np.asarray(y_true).astype(bool).ravel()
    p = np.asarray(y_pred).astype(bool).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels, y_pred {p.size}")
    return {"tp": int(np.sum(t & p)), "fp": int(np.sum(~t & p)),
            "tn": int(np.sum(~t & ~p)), "fn": int(np.sum(t & ~p))}


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    t, p = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return _ratio(np.sum(t == p), t.size)


def precision(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    c = confusion(y_true, y_pred)
    return _ratio(c["tp"], c["tp"] + c["fp"])


def recall(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    c = confusion(y_true, y_pred)
    return _ratio(c["tp"], c["tp"] + c["fn"])


def f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    c = confusion(y_true, y_pred)
    return _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"])


def classification_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | int]:
    """accuracy, precision, recall, f1 and the confusion counts, as plain JSON types."""
    c = confusion(y_true, y_pred)
    return {"accuracy": accuracy(y_true, y_pred),
            "precision": _ratio(c["tp"], c["tp"] + c["fp"]),
            "recall": _ratio(c["tp"], c["tp"] + c["fn"]),
            "f1": _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"]),
            "n": int(sum(c.values())), **c}


def ccc(x: np.ndarray, y: np.ndarray) -> float:
    """Concordance correlation coefficient of two 1-D series (Lin 1989), ddof=0.

    2 cov(x, y) / (var x + var y + (mean x - mean y)^2); 0.0 when both are constant and
    differ (the denominator is then the squared mean gap), 1.0 when identical constants.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"ccc needs two series of the same non-zero length, "
                         f"got {x.size}, {y.size}")
    mx, my = x.mean(), y.mean()
    cov = np.mean((x - mx) * (y - my))
    den = x.var() + y.var() + (mx - my) ** 2
    if den == 0:
        return 1.0
    return float(2 * cov / den)


def mae(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))))


def regression_report(y_true: np.ndarray, y_pred: np.ndarray,
                      names: tuple[str, ...] = ("arousal", "dominance", "valence")
                      ) -> dict[str, float | int]:
    """CCC and MAE per output dimension, plus their means: `ccc_arousal`, …, `ccc_mean`."""
    t = np.asarray(y_true, np.float64).reshape(len(y_true), -1)
    p = np.asarray(y_pred, np.float64).reshape(len(y_pred), -1)
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ")
    out: dict[str, float | int] = {"n": int(t.shape[0])}
    cccs, maes = [], []
    for i in range(t.shape[1]):
        name = names[i] if i < len(names) else f"dim{i}"
        cccs.append(ccc(t[:, i], p[:, i]))
        maes.append(mae(t[:, i], p[:, i]))
        out[f"ccc_{name}"] = cccs[-1]
        out[f"mae_{name}"] = maes[-1]
    out["ccc_mean"] = float(np.mean(cccs))
    out["mae_mean"] = float(np.mean(maes))
    return out
