import numpy as np
import pytest

from tinyflow import metrics


def test_ccc_matches_audmetric_example():
    # audmetric.concordance_cc([0, 1, 2], [0, 1, 1]) == 0.6667 (population variances)
    assert metrics.ccc([0, 1, 2], [0, 1, 1]) == pytest.approx(2 / 3, abs=1e-4)


def test_ccc_properties():
    x = np.linspace(0, 1, 50)
    assert metrics.ccc(x, x) == pytest.approx(1.0)
    assert metrics.ccc(x, 1 - x) == pytest.approx(-1.0)
    # A shifted copy is perfectly correlated but not concordant.
    assert 0 < metrics.ccc(x, x + 0.5) < 0.6
    with pytest.raises(ValueError):
        metrics.ccc([1, 2], [1, 2, 3])


def test_classification_report():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    p = np.array([1, 1, 0, 0, 0, 1, 0, 1])
    r = metrics.classification_report(y, p)
    assert (r["tp"], r["fp"], r["tn"], r["fn"]) == (3, 1, 3, 1)
    assert r["accuracy"] == 0.75
    assert r["precision"] == r["recall"] == r["f1"] == 0.75
    assert metrics.f1([0, 0], [0, 0]) == 0.0  # no positives at all: defined as 0


def test_regression_report_names_dimensions():
    rng = np.random.default_rng(0)
    y = rng.uniform(size=(40, 3))
    r = metrics.regression_report(y, y)
    assert r["ccc_arousal"] == r["ccc_dominance"] == r["ccc_valence"] == pytest.approx(1.0)
    assert r["mae_mean"] == 0.0 and r["n"] == 40
