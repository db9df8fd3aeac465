"""The deep Cox model on raw ECGs as a scikit-survival estimator."""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping
from skorch.utils import noop
from sksurv.base import SurvivalAnalysisMixin

from ._base import _COMMON_CONSTRAINTS, _BaseECGEstimator
from ._training import SurvivalCriterion, SurvivalNet, ValidConcordance
from .calibration import (
    MIN_CALIBRATION_EVENTS,
    CalibratedSurvivalMixin,
    _breslow_from_fitted,
    _legacy_cross_fitted_scale,
    _warn_too_few_events,
    fit_scale_and_baseline,
    holdout_split,
)
from .nn import RiskHead
from .utils.validation import check_event_batching, check_survival_y, user_stacklevel

__all__ = ["ECGSurvivalAnalysis"]


class ECGSurvivalAnalysis(CalibratedSurvivalMixin, SurvivalAnalysisMixin, _BaseECGEstimator):
    """Deep Cox proportional hazards model on 12-lead ECGs (dual-attention network).

    The risk fine-tuning of Chen et al. (2024): the dual-attention encoder with a small risk head,
    trained on ``alpha * Cox partial likelihood + (1 - alpha) * reconstruction`` with
    event-stratified batches (every batch holds at least ``min_events_per_batch`` events), batch-wise
    dropout, batch-level lead masking, AdamW and gradient clipping.

    By default the survival functions are calibrated on data the network did not train on: a
    quarter of the training set (stratified on the event) is held out from training, and on it the
    scale of the network's log-risk (a one-variable Cox fit, the calibration slope) and a Breslow
    baseline of the scaled log-risk, centred on its mean, are fitted (:mod:`sksurv_ecg.calibration`,
    the code :class:`~sksurv_ecg.calibration.CalibratedSurvivalEstimator` runs). Survival is
    ``exp(-H0(t) * exp(risk(x) - risk_offset_))``, so it does not underflow however far the
    log-risk is from 0.

    Parameters
    ----------
    n_leads : int or None, default=None
        Number of leads; inferred from a 3-D ``X``, required to unfold a 2-D ``X``.
    fs : float, default=500
        Sampling rate of ``X`` in Hz, recorded as ``fs_``. An ``encoder`` must have been fitted at
        the same rate; resample with :class:`sksurv_ecg.preprocessing.Resample` otherwise.
    lead_names : sequence of str or None, default=None
        Names of the leads of ``X`` (axis 1), in order. None means the 12 standard leads
        (:data:`sksurv_ecg.nn.LEAD_NAMES`) when ``X`` has 12 leads, else unnamed leads. With an
        ``encoder`` whose leads are the same set in another order, ``X`` is reordered to the
        encoder's order; another set is refused.
    encoder : ECGEmbedder, TextAlignedPretrainer, str or None, default=None
        Warm start: a fitted encoder (or the directory it was saved to) whose encoder and decoder
        weights initialise the network. The paper fine-tuned a text-aligned pretrained encoder.
    max_epochs : int, default=100
        Training epochs (the paper: 100 from a pretrained encoder, 400 from scratch).
    batch_size : int, default=128
        Target batch size; the number of batches per epoch is ``n_train // batch_size``.
    lr : float, default=1e-4
        AdamW learning rate (constant).
    weight_decay : float, default=0.01
        AdamW weight decay.
    alpha : float, default=0.5
        Weight of the Cox loss; ``1 - alpha`` weighs the reconstruction.
    ties : {"breslow", "efron"}, default="breslow"
        Handling of tied event times in the partial likelihood.
    min_events_per_batch : int, default=2
        Events every training batch must hold; too few events raise
        :class:`~sksurv_ecg.InsufficientEventsError`.
    dropout : float, default=0.2
        Dropout inside the attention blocks.
    head_dropout : float, default=0.25
        Dropout before the first layer of the risk head.
    dropout_mode : {"batchwise", "standard"}, default="batchwise"
        ``"batchwise"`` shares each dropout mask across the batch.
    lead_mask_prob : float, default=0.5
        Probability that a batch draws one of the CinC-2021 lead sets (2, 3, 4, 6, 8 or all 12
        leads; all 12 with probability 0.5), so 0.5 trains about a quarter of the batches on
        reduced leads. The seed drew a set for every batch (1.0), which learns more slowly on small
        cohorts.
    grad_clip : float or None, default=100.0
        Gradient-norm clipping value.
    standardize : bool, default=True
        Z-score each lead of each ECG inside the model.
    validation_fraction : float or None, default=None
        Fraction of the training set held out (stratified on the event) for model selection.
    selection : {"last", "c_index", "loss"}, default="last"
        Which epoch's weights to keep: the last, or the best by validation Harrell's C or by
        validation loss (the latter two need ``validation_fraction``).
    patience : int or None, default=None
        Stop when the selection metric has not improved for this many epochs (None: never stop).
    calibration : {"auto", "validation", "train"}, float, int or None, default="auto"
        Where the scale of the log-risk (a one-variable Cox fit,
        :func:`sksurv_ecg.metrics.fit_risk_scale`) and the Breslow baseline are fitted, so that
        ``predict_survival_function`` is calibrated. A float ``f`` in (0, 1): on a share ``f`` of the
        training set held out from the network's training (stratified on the event).
        ``"validation"``: on the held-out ``validation_fraction`` split. ``"auto"`` (default):
        ``"validation"`` when ``validation_fraction`` is set, else 0.25. When the held-out part would
        hold fewer than :data:`~sksurv_ecg.calibration.MIN_CALIBRATION_EVENTS` (10) events, the
        network trains on all samples with its own scale and a
        :class:`~sksurv_ecg.exceptions.CalibrationWarning`. ``"train"``: the scale and baseline on
        the training predictions (it cannot correct overfitting). None: the raw network scale and a
        baseline on the training predictions (the behaviour before 0.2). An int ``k`` (deprecated,
        removed in 0.3): a scale fitted on ``k``-fold models, which are not the deployed model and
        over-corrected it (slopes 1.3-1.6 on held-out data). Measurements: the calibration section
        of the evaluation guide.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where to train.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"`` runs forward passes under bfloat16 autocast: faster on CPUs with AVX-512 bf16 or
        AMX and on GPUs from compute capability 8.0; where bfloat16 is only emulated (an AVX2 CPU)
        it is several times slower, and ``fit`` warns with a :class:`~sksurv_ecg.DeviceWarning`.
    checkpoint_dir : str, path-like or None, default=None
        Save params, optimizer and history after every epoch; a later ``fit`` with the same
        directory resumes.
    random_state : int, RandomState instance or None, default=None
        Seeds weight init, dropout, lead masks, batches and the validation split.
    verbose : int, default=0
        ``1`` prints a table per epoch and a progress bar.
    **kwargs : dict
        Routed parameters: ``module__*``, ``optimizer__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network.
    history_ : skorch.History
        Per-epoch losses (and ``valid_c_index`` with ``selection="c_index"``).
    n_features_in_ : int
        Number of leads (or columns of a 2-D ``X``).
    n_leads_ : int
        Number of leads.
    n_timesteps_in_ : int
        Number of time steps.
    impl_ : {"fast", "reference"}
        How the network is computed: ``module__impl`` when given, else chosen by device at ``fit``
        (``"fast"`` on the CPU, ``"reference"``, the standard ATen/cuDNN kernels, on CUDA).
    baseline_model_ : sksurv.linear_model.coxph.BreslowEstimator
        The Breslow baseline fitted on ``predict(X) - risk_offset_`` of the calibration sample; the
        next three attributes are its own.
    unique_times_ : ndarray of shape (n_unique_times,)
        Unique times of the calibration sample.
    cum_baseline_hazard_ : sksurv.functions.StepFunction
        Breslow cumulative hazard of a patient whose log-risk ``predict(x)`` equals ``risk_offset_``
        (the mean patient of the calibration sample), not of a log-risk of 0.
    baseline_survival_ : sksurv.functions.StepFunction
        Survival function of that patient.
    risk_scale_ : float
        Factor on the network's log-risk, fitted as set by ``calibration`` (1.0 without); clipped at 0
        with a ``TrainingWarning`` when the fit is not positive (every patient then gets the baseline).
    risk_offset_ : float
        Mean of ``predict(X)`` on the calibration sample, the centre of the baseline (0 for models
        saved before 0.2).
    calibration_source_ : str
        Where the scale and the baseline were fitted: ``"holdout"``, ``"validation"``, ``"train"``,
        ``"none"``, ``"{k}-fold"`` or ``"recalibrate"``.
    calibration_fraction_ : float or None
        Share of the training set the network did not train on (the held-out calibration or
        validation split); None when it trained on all samples.
    n_calibration_events_ : int
        Events in the sample the scale and the baseline were fitted on.
    fs_ : float
        Sampling rate of the ECGs the network was fitted on, in Hz.
    lead_names_ : list of str or None
        Names of the leads of ``X`` in the order ``fit`` got them (None: unnamed).
    lead_order_ : list of int or None
        Columns of ``X`` in the order the network reads them, when the ``encoder`` had the same
        leads in another order; None when ``X`` is read as given.
    device_ : str
        Device the model lives on.

    See Also
    --------
    sksurv.linear_model.CoxPHSurvivalAnalysis : The linear Cox model.
    ECGEmbedder : Pretrained encoder to start from.

    Examples
    --------
    >>> from sksurv_ecg import ECGSurvivalAnalysis
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> X, y, _ = make_ecg_survival(40, random_state=0)
    >>> model = ECGSurvivalAnalysis(max_epochs=1, batch_size=20, calibration=None, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    >>> surv = model.predict_survival_function(X[:2], return_array=True)
    >>> surv.shape == (2, model.unique_times_.shape[0])
    True
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "encoder": [HasMethods(["transform"]), str, os.PathLike, None],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "ties": [StrOptions({"breslow", "efron"})],
        "min_events_per_batch": [Interval(Integral, 1, None, closed="left")],
        "head_dropout": [Interval(Real, 0, 1, closed="left")],
        "grad_clip": [Interval(Real, 0, None, closed="neither"), None],
        "selection": [StrOptions({"last", "c_index", "loss"})],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "calibration": [
            StrOptions({"auto", "validation", "train"}),
            Interval(Real, 0, 1, closed="neither"),
            Interval(Integral, 2, None, closed="left"),
            None,
        ],
    }

    _net_class = SurvivalNet
    _criterion_class = SurvivalCriterion
    _criterion_params = ("alpha", "ties")
    _net_params = ("min_events_per_batch",)

    def __init__(
        self,
        *,
        n_leads=None,
        fs=500,
        lead_names=None,
        encoder=None,
        max_epochs=100,
        batch_size=128,
        lr=1e-4,
        weight_decay=0.01,
        alpha=0.5,
        ties="breslow",
        min_events_per_batch=2,
        dropout=0.2,
        head_dropout=0.25,
        dropout_mode="batchwise",
        lead_mask_prob=0.5,
        grad_clip=100.0,
        standardize=True,
        validation_fraction=None,
        selection="last",
        patience=None,
        calibration="auto",
        device="cpu",
        precision="float32",
        checkpoint_dir=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.n_leads = n_leads
        self.fs = fs
        self.lead_names = lead_names
        self.encoder = encoder
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.alpha = alpha
        self.ties = ties
        self.min_events_per_batch = min_events_per_batch
        self.dropout = dropout
        self.head_dropout = head_dropout
        self.dropout_mode = dropout_mode
        self.lead_mask_prob = lead_mask_prob
        self.grad_clip = grad_clip
        self.standardize = standardize
        self.validation_fraction = validation_fraction
        self.selection = selection
        self.patience = patience
        self.calibration = calibration
        self.device = device
        self.precision = precision
        self.checkpoint_dir = checkpoint_dir
        self.random_state = random_state
        self.verbose = verbose
        self._set_routed(kwargs)

    #: Named settings for :meth:`from_preset`: the paper's GPU schedule, and one measured to learn on a
    #: few hundred ECGs on a CPU (docs/evaluation.md).
    PRESETS = {
        "paper": {"lr": 1e-4, "max_epochs": 100, "batch_size": 128},
        "cpu-small": {"lr": 1e-3, "max_epochs": 20, "batch_size": 64},
    }

    @classmethod
    def from_preset(cls, name, **params):
        """An estimator with a named preset's settings; ``params`` override them.

        Parameters
        ----------
        name : {"paper", "cpu-small"}
            ``"paper"``: the original GPU settings (``lr=1e-4``, 100 epochs, batch 128; the class
            defaults). ``"cpu-small"``: ``lr=1e-3``, 20 epochs, batch 64, for a few hundred ECGs on
            a CPU, where ``lr=1e-4`` has barely started to learn after a few epochs.
        **params : dict
            Any other constructor parameters.

        Returns
        -------
        estimator : ECGSurvivalAnalysis
            Unfitted.

        Examples
        --------
        >>> from sksurv_ecg import ECGSurvivalAnalysis
        >>> ECGSurvivalAnalysis.from_preset("cpu-small", random_state=0).lr
        0.001
        """
        if name not in cls.PRESETS:
            raise ValueError(f"preset {name!r} is unknown; use one of {sorted(cls.PRESETS)}.")
        return cls(**{**cls.PRESETS[name], **params})

    # --- model pieces -------------------------------------------------------------------------
    def _build_module(self, autoencoder):
        head = RiskHead(autoencoder.config.latent_dim, dropout=self.head_dropout, dropout_mode=self.dropout_mode)
        return self._task_model(autoencoder, head=head)

    def _selection_callbacks(self):
        if self.selection == "last" and self.patience is None:
            return []
        if self.validation_fraction is None:
            raise ValueError(
                f"selection={self.selection!r} and patience={self.patience!r} need a validation split, but "
                "validation_fraction=None; set validation_fraction (e.g. 0.2) or selection='last'."
            )
        callbacks = []
        monitor, lower_is_better = "valid_loss", True
        if self.selection in ("c_index", "last"):
            callbacks.append(("valid_c_index", ValidConcordance()))
            monitor, lower_is_better = "valid_c_index", False
        callbacks.append(
            (
                "selection",
                EarlyStopping(
                    monitor=monitor,
                    lower_is_better=lower_is_better,
                    patience=self.patience or self.max_epochs + 1,
                    threshold=0.0,
                    load_best=self.selection != "last",
                    sink=print if self.verbose else noop,
                ),
            )
        )
        return callbacks

    # --- scikit-learn API ---------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the deep Cox model, then fit the Breslow baseline hazard.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs; a 2-D array is unfolded with ``n_leads``.
        y : structured array of shape (n_samples,)
            Event indicator and time, e.g. from :meth:`sksurv.util.Surv.from_arrays`.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_routed()
        event, time = check_survival_y(X, y)
        X = self._validate_X(X, reset=True, ensure_min_samples=2)
        source = self._plan_calibration(event)
        fit_idx = held = np.arange(event.shape[0])
        if source == "holdout":
            # held out by indexing, not through the net's train_split: the same subset under DDP
            fit_idx, held = holdout_split(event, self.calibration_fraction_, self._seed())
        # batch_size >= 2 (a Cox loss over one sample is 0) is enforced by _parameter_constraints.
        n_fit = self._n_train(fit_idx.shape[0])
        check_event_batching(event[fit_idx], min(self.batch_size, n_fit), self.min_events_per_batch)
        target = np.column_stack([time, event]).astype(np.float32)
        self._fit_net(X if source != "holdout" else X[fit_idx], target[fit_idx])
        if source == "validation":
            held = self._held_out_indices(X, target)
        if source in ("holdout", "validation"):
            raw = self.net_.predict_risk(X[held])
            self._calibrate(raw, event[held], time[held], source=source, follow_up=time.max())
        elif source == "train":
            self._calibrate(self.net_.predict_risk(X), event, time, source=source)
        else:
            scale = 1.0 if source == "none" else _legacy_cross_fitted_scale(self, X, event, time)
            self._calibrate(scale * self.net_.predict_risk(X), event, time, source=source, fit_scale=False)
            self.risk_scale_ = scale
        return self

    _DEFAULT_CALIBRATION_FRACTION = 0.25

    def _plan_calibration(self, event):
        """Decide where the calibration is fitted; set ``calibration_fraction_`` (the split the net holds out)."""
        calibration = self.calibration
        self.calibration_fraction_ = self.validation_fraction
        if isinstance(calibration, Integral) and not isinstance(calibration, bool):
            warnings.warn(
                f"calibration={calibration} (a scale fitted on {calibration}-fold models) is deprecated and will be "
                "removed in sksurv-ecg 0.3: the fold models are not the deployed model, and the scale over-corrected "
                "it on held-out data. Use the default calibration='auto' (a held-out calibration split).",
                FutureWarning,
                stacklevel=user_stacklevel(),
            )
            return f"{calibration}-fold"
        if calibration is None or calibration == "train":
            return "none" if calibration is None else "train"
        if calibration == "validation" and self.validation_fraction is None:
            raise ValueError(
                "calibration='validation' needs a validation split, but validation_fraction=None; set "
                "validation_fraction (e.g. 0.2), or use calibration='auto' for a held-out calibration split."
            )
        if isinstance(calibration, Real) and self.validation_fraction is not None:
            raise ValueError(
                f"calibration={calibration} holds out a calibration split, but validation_fraction="
                f"{self.validation_fraction} holds out another; set one of them (calibration='auto' calibrates on "
                "the validation split)."
            )
        source = "validation" if self.validation_fraction is not None else "holdout"
        fraction = self.validation_fraction or (
            self._DEFAULT_CALIBRATION_FRACTION if calibration == "auto" else float(calibration)
        )
        try:
            _, held = holdout_split(event, fraction, self._seed())
            n_held = int(event[held].sum())
        except ValueError:  # too few samples of a class to stratify: nothing to calibrate on
            n_held = 0
        if n_held >= MIN_CALIBRATION_EVENTS:
            self.calibration_fraction_ = fraction
            return source
        _warn_too_few_events(
            n_held,
            f"the {'validation' if source == 'validation' else 'held-out calibration'} split ({fraction:g} of "
            f"{event.shape[0]} samples)",
            "The network trains on all samples. Use more data, recalibrate(X, y) on a held-out cohort, or pass "
            "calibration=None to keep the raw scale without this warning.",
        )
        return "none"

    def _held_out_indices(self, X, target):
        """Indices of the samples the net held out, through skorch's public ``train_split``."""
        _, valid = self.net_.train_split(self.net_.get_dataset(X, target))
        return np.asarray(valid.indices)

    def _calibrate(self, raw, event, time, *, source, fit_scale=True, follow_up=None):
        """Fit ``risk_scale_``, ``risk_offset_`` and the baseline on ``raw`` network log-risks."""
        self.risk_scale_, self.risk_offset_, baseline = fit_scale_and_baseline(
            raw, event, time, fit_scale=fit_scale, source=source, follow_up=follow_up
        )
        self.calibration_source_ = source
        self.n_calibration_events_ = int(np.sum(event))
        self._set_baseline(baseline)

    def recalibrate(self, X, y):
        """Refit the log-risk scale and the Breslow baseline on a calibration set; the network is kept.

        Use held-out data of the target population (e.g. another hospital): the scale is the Cox
        coefficient of the network's raw log-risk on ``(X, y)`` and the baseline hazard is
        re-estimated there, so both the spread and the level of the predicted risks are fitted.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs of the calibration set.
        y : structured array of shape (n_samples,)
            Their outcomes.

        Returns
        -------
        self : object
            The estimator, recalibrated.
        """
        check_is_fitted(self, "net_")
        event, time = check_survival_y(X, y)
        X = self._validate_X(X, reset=False)
        if event.sum() < MIN_CALIBRATION_EVENTS:
            _warn_too_few_events(int(event.sum()), "the calibration set", "Recalibrate on a larger cohort.")
        self._calibrate(self.net_.predict_risk(X), event, time, source="recalibrate")
        return self

    def _set_baseline(self, baseline):
        """Keep ``baseline`` (a fitted ``BreslowEstimator``): used by ``fit`` and by loading."""
        self.baseline_model_ = baseline

    def predict(self, X):
        """Predict risk scores (log-hazard ratios; higher means riskier).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs.

        Returns
        -------
        risk_score : ndarray of shape (n_samples,), dtype float64
            Predicted log-hazard: the network's output times ``risk_scale_``.
        """
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        return self.risk_scale_ * self.net_.predict_risk(X)

    def attention(self, X):
        """Head-averaged attention maps of the encoder, computed in eval mode without side effects.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs.

        Returns
        -------
        lead_attention : ndarray of shape (n_samples, n_leads, n_leads) or None
            Cross-lead attention (rows are queries and sum to 1); None without lead attention.
        time_attention : ndarray of shape (n_samples, n_leads, n_latent_steps, n_latent_steps) or None
            Per-lead temporal attention over the latent time axis; None without time attention.
        """
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        return self.net_.attention(X)

    # --- persistence --------------------------------------------------------------------------
    def _fitted_state(self):
        return {
            "unique_times_": self.unique_times_.tolist(),
            "cum_baseline_hazard_": self.cum_baseline_hazard_.y.tolist(),
            "risk_scale_": self.risk_scale_,
            "risk_offset_": self.risk_offset_,
            "calibration_source_": self.calibration_source_,
            "calibration_fraction_": self.calibration_fraction_,
            "n_calibration_events_": self.n_calibration_events_,
        }

    def _restore_fitted_state(self, state):
        # files written before calibration existed used the raw network scale
        self.risk_scale_ = float(state.get("risk_scale_", 1.0))
        self.calibration_source_ = state.get("calibration_source_", "none")
        # files written before 0.2 kept a baseline of the uncentred log-risk
        self.risk_offset_ = float(state.get("risk_offset_", 0.0))
        self.calibration_fraction_ = state.get("calibration_fraction_", self.validation_fraction)
        self.n_calibration_events_ = state.get("n_calibration_events_")
        self._set_baseline(_breslow_from_fitted(state["unique_times_"], state["cum_baseline_hazard_"]))
