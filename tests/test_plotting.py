"""Tests of sksurv_ecg.plotting: figures render headless to PNG with the expected labels."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib._pylab_helpers import Gcf
from matplotlib.figure import Figure
from sksurv.compare import compare_survival
from sksurv.util import Surv

from sksurv_ecg.conventions import LEAD_NAMES as STANDARD_LEADS
from sksurv_ecg.plotting import plot_ecg_attention, plot_lead_attention, plot_risk_groups, plot_shap_leads, risk_groups

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _no_global_state():
    """Every plot leaves rcParams alone and registers no pyplot figure."""
    before = dict(matplotlib.rcParams)
    n_managers = Gcf.get_num_fig_managers()
    yield
    assert dict(matplotlib.rcParams) == before
    assert Gcf.get_num_fig_managers() == n_managers


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    data = buffer.getvalue()
    assert data.startswith(PNG_MAGIC)
    return data


def _titled(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


@pytest.fixture
def ecg(rng):
    t = np.arange(300) / 250
    return np.sin(2 * np.pi * 1.5 * t)[None] * np.linspace(0.5, 1.5, 12)[:, None] + 0.01 * rng.standard_normal(
        (12, 300)
    )


@pytest.fixture
def survival(rng):
    risk = rng.normal(size=200)
    time = rng.exponential(np.exp(-risk))
    event = rng.random(200) < 0.7
    return risk, Surv.from_arrays(event, time)


@pytest.mark.parametrize("ncols", [1, 2])
def test_plot_ecg_attention_renders_with_lead_names(ecg, ncols):
    attention = np.abs(ecg) / np.abs(ecg).sum(axis=1, keepdims=True)
    fig = plot_ecg_attention(ecg, attention, fs=250, ncols=ncols, title="Record 8")
    assert isinstance(fig, Figure)
    _png(fig)
    panels = [ax for ax in fig.axes if ax.get_ylabel() in STANDARD_LEADS]
    assert sorted(ax.get_ylabel() for ax in panels) == sorted(STANDARD_LEADS)
    assert all(ax.get_xlim() == (0.0, 299 / 250) for ax in panels)
    assert fig.get_suptitle() == "Record 8"
    assert any(ax.get_ylabel() == "Attention" for ax in fig.axes)  # the colour bar
    bottom = [ax.get_xlabel() for ax in panels if ax.get_xlabel()]
    assert bottom
    assert set(bottom) == {"Time (s)"}
    # each panel: one coloured collection carrying the map, one black trace carrying the signal
    first = next(ax for ax in panels if ax.get_ylabel() == "I")
    np.testing.assert_allclose(first.lines[0].get_ydata(), ecg[0])
    np.testing.assert_allclose(first.collections[0].get_array(), (attention[0, :-1] + attention[0, 1:]) / 2)


def test_plot_ecg_attention_signed_map_on_a_subfigure(ecg):
    root = Figure(figsize=(10, 8))
    left, _ = root.subfigures(1, 2)
    fig = plot_ecg_attention(ecg, ecg - ecg.mean(), symmetric=True, cmap="coolwarm", colorbar_label="SHAP", fig=left)
    assert fig is root
    norm = fig.axes[0].collections[0].norm
    assert norm.vmin == -norm.vmax
    _png(fig)


def test_plot_ecg_attention_errors(ecg):
    with pytest.raises(ValueError, match="expected the same"):
        plot_ecg_attention(ecg, ecg[:, :10])
    with pytest.raises(ValueError, match="'lead_names' has 2 names"):
        plot_ecg_attention(ecg, ecg, lead_names=["a", "b"])
    with pytest.raises(ValueError, match="'ncols'=0"):
        plot_ecg_attention(ecg, ecg, ncols=0)


def test_plot_lead_attention_single_map_on_given_ax(rng):
    fig = Figure()
    ax = fig.add_subplot()
    out = plot_lead_attention(rng.dirichlet(np.ones(12), size=12), ax=ax)
    assert out is fig
    assert ax.get_title() == "Lead attention"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(STANDARD_LEADS)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(STANDARD_LEADS)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Attended lead (key)", "Query lead")
    _png(fig)


def test_plot_lead_attention_mean_of_a_stack(rng):
    maps = rng.dirichlet(np.ones(3), size=(5, 3))
    fig = plot_lead_attention(maps, lead_names=["x", "y", "z"])
    assert _titled(fig) == ["Mean lead attention (n=5)"]
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), maps.mean(axis=0))


def test_plot_lead_attention_groups(rng):
    maps = rng.dirichlet(np.ones(12), size=(50, 12))
    risk = np.arange(50.0)
    fig = plot_lead_attention(maps, risk, percentile=90)
    _png(fig)
    assert _titled(fig) == [
        "Mean, low risk (n=45)",
        "Mean, high risk (n=5)",
        "Mean, high - low",
        "Std, low risk (n=45)",
        "Std, high risk (n=5)",
        "Std, high - low",
    ]
    assert "90th percentile" in fig.get_suptitle()
    panels = {ax.get_title(): ax.images[0] for ax in fig.axes if ax.get_title()}
    high = risk > np.percentile(risk, 90)
    expected = maps[high].mean(axis=0) - maps[~high].mean(axis=0)
    np.testing.assert_allclose(panels["Mean, high - low"].get_array(), expected)
    vmin, vmax = panels["Mean, high - low"].get_clim()
    assert vmin == -vmax


def test_plot_lead_attention_errors(rng):
    maps = rng.dirichlet(np.ones(12), size=(10, 12))
    with pytest.raises(ValueError, match="expected \\(n_leads, n_leads\\)"):
        plot_lead_attention(maps[..., :5])
    with pytest.raises(ValueError, match="'risk' has shape \\(3,\\)"):
        plot_lead_attention(maps, np.arange(3.0))
    with pytest.raises(ValueError, match="needs a 2 x 3 grid"):
        plot_lead_attention(maps, np.arange(10.0), ax=Figure().add_subplot())


def test_risk_groups(survival):
    risk, _ = survival
    high, threshold = risk_groups(risk, 96)
    assert high.sum() == 8
    assert threshold == pytest.approx(np.percentile(risk, 96))
    with pytest.raises(ValueError, match="'percentile'=100 must be a number in \\(0, 100\\)"):
        risk_groups(risk, 100)
    with pytest.raises(ValueError, match="0 of 4 samples in the high-risk group"):
        risk_groups(np.ones(4), 50)
    with pytest.raises(ValueError, match="finite 1-D"):
        risk_groups([[1.0, 2.0]], 50)


def test_plot_risk_groups(survival):
    risk, y = survival
    fig = plot_risk_groups(risk, y, percentile=90, time_label="Time (years)")
    _png(fig)
    (ax,) = fig.axes
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Low risk (n=180)", "High risk (n=20)"]
    _, pvalue = compare_survival(y, risk > np.percentile(risk, 90))
    assert legend.get_title().get_text() == f"log-rank p = {pvalue:.2g}"
    assert pvalue < 0.05  # the risk drives the simulated hazard
    assert ax.get_xlabel() == "Time (years)"
    assert ax.get_ylabel() == "Survival probability"
    assert "90th percentile" in ax.get_title()
    assert len(ax.lines) == 2
    assert len(ax.collections) == 2  # confidence bands
    for line in ax.lines:
        ydata = np.asarray(line.get_ydata())
        assert ydata[0] == 1.0
        assert (np.diff(ydata) <= 0).all()


def test_plot_risk_groups_on_given_ax_without_bands(survival):
    risk, y = survival
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_risk_groups(risk, y, ax=ax, conf_int=False, labels=("low", "high")) is fig
    assert len(ax.collections) == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["low (n=192)", "high (n=8)"]


def test_plot_risk_groups_errors(survival):
    risk, y = survival
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        plot_risk_groups(risk[:10], y)
    with pytest.raises(ValueError, match="'labels' has 1 entries"):
        plot_risk_groups(risk, y, labels=("only",))
    with pytest.raises(ValueError, match="'percentile'"):
        plot_risk_groups(risk, y, percentile=0)


def test_plot_shap_leads(rng):
    importance = rng.random((4, 12))
    fig = plot_shap_leads(importance)
    _png(fig)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == list(STANDARD_LEADS)
    assert ax.get_title() == "SHAP importance per lead (n=4)"
    assert ax.get_xlabel() == "Mean |SHAP value| (log-risk)"
    np.testing.assert_allclose([p.get_width() for p in ax.patches], importance.mean(axis=0))


def test_plot_shap_leads_accepts_the_shap_result_bunch():
    from sklearn.utils import Bunch

    result = Bunch(lead_importance=np.array([[1.0, 2.0]]), lead_names=["a", "b"])
    fig = plot_shap_leads(result, title="Leads")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_title() == "Leads"
    with pytest.raises(ValueError, match="'lead_importance' has shape"):
        plot_shap_leads(np.ones((2, 2, 2)))


def test_plot_calibration_shows_numbers_and_ideal_line():
    from sksurv.util import Surv

    from sksurv_ecg.metrics import calibration_at
    from sksurv_ecg.plotting import plot_calibration

    rng = np.random.default_rng(0)
    eta = rng.normal(size=400)
    t = rng.exponential(np.exp(-eta))
    y = Surv.from_arrays(t < 2.0, np.minimum(t, 2.0))
    cal = calibration_at(y, 1 - np.exp(-0.5 * np.exp(eta)), 0.5)
    fig = plot_calibration(cal)
    ax = fig.axes[0]
    assert f"ICI {cal.ici:.3f}" in ax.texts[0].get_text()
    assert [line.get_label() for line in ax.lines][0] == "Ideal"
    with pytest.raises(TypeError, match="calibration_at"):
        plot_calibration({"ici": 0.1})


def test_plot_calibration_band_and_histogram():
    from sksurv.util import Surv

    from sksurv_ecg.metrics import calibration_at, calibration_slope, smoothed_calibration
    from sksurv_ecg.plotting import plot_calibration

    rng = np.random.default_rng(0)
    eta = rng.normal(size=400)
    t = rng.exponential(np.exp(-eta))
    y = Surv.from_arrays(t < 2.0, np.minimum(t, 2.0))
    risk = 1 - np.exp(-0.5 * np.exp(eta))
    fig = plot_calibration(y, risk, 0.5, log_risk=eta, n_resamples=50)
    ax = fig.axes[0]
    assert fig.calibration.slope == pytest.approx(calibration_at(y, risk, 0.5, log_risk=eta).slope)
    curve = smoothed_calibration(y, risk, 0.5, n_resamples=50, random_state=0)
    np.testing.assert_allclose(fig.curve.observed, curve.observed)
    assert np.all(curve.low <= curve.observed)
    assert np.all(curve.observed <= curve.high)
    # a calibrated model: the band covers the diagonal over most of the grid
    assert np.mean((curve.low <= curve.predicted) & (curve.predicted <= curve.high)) > 0.7
    assert len(ax.collections) == 1  # the band
    assert len(fig.axes[0].child_axes) == 1  # the histogram
    with pytest.raises(TypeError, match="predicted_risk, horizon"):
        plot_calibration(y, risk)
    slope = calibration_slope(y, 2.0 * eta, n_resamples=40, random_state=0)
    assert slope.low < 0.5 < slope.high


def test_plot_oof_risk_groups_uses_out_of_fold_risks():
    from sklearn.model_selection import KFold, cross_val_predict
    from sksurv.linear_model import CoxPHSurvivalAnalysis
    from sksurv.util import Surv

    from sksurv_ecg.plotting import plot_oof_risk_groups

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 2))
    y = Surv.from_arrays(rng.random(150) < 0.7, rng.exponential(np.exp(-X[:, 0])))
    cv = list(KFold(3, shuffle=True, random_state=0).split(X))
    fig = plot_oof_risk_groups(CoxPHSurvivalAnalysis(), X, y, cv=cv, n_at_risk_times=4)
    np.testing.assert_allclose(fig.oof_risk, cross_val_predict(CoxPHSurvivalAnalysis(), X, y, cv=cv))
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Low at risk" in texts
    assert str(int((fig.oof_risk <= np.median(fig.oof_risk)).sum())) in texts  # everyone at risk at t = 0
