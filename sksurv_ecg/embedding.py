"""Self-supervised ECG encoders as scikit-learn transformers.

:class:`ECGEmbedder` pretrains the dual-attention autoencoder as a masked-lead denoising
autoencoder; :class:`TextAlignedPretrainer` adds the seed's ECG-report alignment. Both turn ECGs
into 512-d latent codes with ``transform`` and hand their weights to the next estimator through
``encoder=``.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import _COMMON_CONSTRAINTS, _BaseECGEstimator
from ._seed_checkpoint import SEED_FS, SEED_N_TIMESTEPS, load_into, read_seed_checkpoint
from ._training import AlignNet, PretrainCriterion, warmup_cosine_schedule
from .conventions import LEAD_NAMES
from .nn import DualAttentionAutoencoder, ProjectionHead
from .utils.validation import check_device, check_precision, check_text_embeddings

__all__ = ["ECGEmbedder", "TextAlignedPretrainer"]


class ECGEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, _BaseECGEstimator):
    """Masked-lead denoising autoencoder that embeds 12-lead ECGs into latent codes.

    ``fit`` trains the dual-attention autoencoder of Chen et al. (2024) to rebuild the clean,
    per-lead standardised ECG from a copy in which, with probability ``lead_mask_prob``, only a
    CinC-2021 reduced lead set (2, 3, 4, 6 or 8 leads) is kept. ``transform`` returns the encoder's
    latent code. Signals of any length are centre zero-padded to a multiple of 32 samples inside the
    network (600-sample median beats run at 608, as in the paper).

    Parameters
    ----------
    n_leads : int or None, default=None
        Number of leads; inferred from a 3-D ``X``, required to unfold a 2-D ``X``.
    fs : float, default=500
        Sampling rate of ``X`` in Hz, recorded as ``fs_``. An ``encoder`` must have been fitted at
        the same rate; resample with :class:`sksurv_ecg.preprocessing.Resample` otherwise.
    lead_names : sequence of str or None, default=None
        Names of the leads of ``X`` (axis 1), in order. None means the 12 standard leads
        (:data:`sksurv_ecg.conventions.LEAD_NAMES`) when ``X`` has 12 leads, else unnamed leads. With an
        ``encoder`` whose leads are the same set in another order, ``X`` is reordered to the
        encoder's order; another set is refused.
    encoder : ECGEmbedder, TextAlignedPretrainer, str or None, default=None
        An already fitted encoder (or the directory it was saved to). ``fit`` then copies its
        weights and trains nothing unless ``refit_encoder=True``.
    refit_encoder : bool, default=False
        Continue pretraining from ``encoder`` instead of only copying it.
    max_epochs : int, default=300
        Training epochs (the paper's pretraining ran 300).
    batch_size : int, default=128
        Mini-batch size; clipped (with a warning) to the number of training samples.
    lr : float, default=1e-3
        Peak learning rate of AdamW (betas 0.9, 0.95 unless ``optimizer__betas`` is set).
    weight_decay : float, default=0.01
        AdamW weight decay.
    warmup : float, default=0.2
        Fraction of the steps with linear warm-up before a half-cosine decay to 0 (per batch).
    dropout : float, default=0.2
        Dropout probability inside the attention blocks.
    dropout_mode : {"batchwise", "standard"}, default="batchwise"
        ``"batchwise"`` shares each dropout mask across the batch (the seed's batch-wise dropout).
    lead_mask_prob : float, default=0.5
        Probability that a sample draws one of the CinC-2021 lead sets (2, 3, 4, 6, 8 or all 12
        leads; all 12 with probability 0.5), as the seed's pretraining: about a quarter of the
        samples are trained on reduced leads.
    standardize : bool, default=True
        Z-score each lead of each ECG inside the model.
    validation_fraction : float or None, default=None
        Fraction held out to report ``valid_loss`` per epoch.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Where to train; ``"auto"`` takes CUDA when available.
    precision : {"float32", "bf16"}, default="float32"
        ``"bf16"`` runs forward passes under bfloat16 autocast: faster on CPUs with AVX-512 bf16 or
        AMX and on GPUs from compute capability 8.0; where bfloat16 is only emulated (an AVX2 CPU)
        it is several times slower, and ``fit`` warns with a :class:`~sksurv_ecg.DeviceWarning`.
    checkpoint_dir : str, path-like or None, default=None
        Save params, optimizer and history after every epoch; a later ``fit`` with the same
        directory resumes from there.
    random_state : int, RandomState instance or None, default=None
        Seeds weight init, dropout, lead masks and batch order.
    verbose : int, default=0
        ``1`` prints a table per epoch and a progress bar.
    **kwargs : dict
        Routed parameters: ``module__*`` (architecture, e.g. ``module__n_heads``,
        ``module__lead_attention``), ``optimizer__*``, ``iterator_train__*``, ``iterator_valid__*``,
        ``callbacks__*``.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network.
    history_ : skorch.History
        Per-epoch losses.
    n_features_in_ : int
        Number of leads (3-D ``X``) or columns (2-D ``X``) seen in ``fit``.
    n_leads_ : int
        Number of leads.
    n_timesteps_in_ : int
        Number of time steps seen in ``fit``.
    fs_ : float
        Sampling rate of the ECGs the network was fitted on, in Hz.
    lead_names_ : list of str or None
        Names of the leads of ``X`` in the order ``fit`` got them (None: unnamed).
    lead_order_ : list of int or None
        Columns of ``X`` in the order the network reads them, when the ``encoder`` had the same
        leads in another order; None when ``X`` is read as given.
    device_ : str
        Device the model lives on.
    impl_ : {"fast", "reference"}
        How the network is computed: ``module__impl`` when given, else chosen by device at ``fit``
        (``"fast"`` on the CPU, ``"reference"``, the standard ATen/cuDNN kernels, on CUDA).

    See Also
    --------
    TextAlignedPretrainer : Pretraining with ECG-report alignment.
    ECGSurvivalAnalysis : Deep Cox model that can start from this encoder.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg import ECGEmbedder
    >>> X = np.random.default_rng(0).standard_normal((8, 12, 64)).astype("float32")
    >>> emb = ECGEmbedder(max_epochs=1, batch_size=4, random_state=0).fit(X)
    >>> emb.transform(X).shape
    (8, 512)
    """

    _parameter_constraints: dict = {
        **_COMMON_CONSTRAINTS,
        "encoder": [HasMethods(["transform"]), str, os.PathLike, None],
        "refit_encoder": ["boolean"],
        "warmup": [Interval(Real, 0, 1, closed="both")],
    }

    _criterion_class = PretrainCriterion
    _optimizer_defaults = {"betas": (0.9, 0.95)}  # the seed's pretraining AdamW

    def __init__(
        self,
        *,
        n_leads=None,
        fs=500,
        lead_names=None,
        encoder=None,
        refit_encoder=False,
        max_epochs=300,
        batch_size=128,
        lr=1e-3,
        weight_decay=0.01,
        warmup=0.2,
        dropout=0.2,
        dropout_mode="batchwise",
        lead_mask_prob=0.5,
        standardize=True,
        validation_fraction=None,
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
        self.refit_encoder = refit_encoder
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.dropout = dropout
        self.dropout_mode = dropout_mode
        self.lead_mask_prob = lead_mask_prob
        self.standardize = standardize
        self.validation_fraction = validation_fraction
        self.device = device
        self.precision = precision
        self.checkpoint_dir = checkpoint_dir
        self.random_state = random_state
        self.verbose = verbose
        self._set_routed(kwargs)

    @classmethod
    def from_seed_checkpoint(cls, path, *, device="cpu", **params):
        """A fitted encoder from the authors' released PyTorch Lightning checkpoint; no ``fit`` needed.

        The checkpoint (``checkpoint_best_loss-v2.ckpt`` in the seed's instructions) is read
        without running pickled code and without the seed's package
        (``sksurv_ecg._seed_checkpoint.read_seed_checkpoint``); its encoder and decoder are loaded
        with every missing or unexpected key named. The estimator records the preprocessing the
        checkpoint was trained with (the seed's documentation): ``fs_=500``, the 12 standard leads in
        order (``lead_names_``), per-lead z-score (``standardize=True``) and ``n_timesteps_in_=608``
        (PTB-XL+'s 600-sample median beats padded to 608; both 600 and 608 samples are accepted).

        Parameters
        ----------
        path : str or path-like
            The ``.ckpt`` file.
        device : str, default="cpu"
            Device to place the model on.
        **params : dict
            Other constructor parameters, e.g. ``module__*`` when the checkpoint was trained with
            another architecture than the paper's, or training settings for a later ``fit`` with
            ``encoder=``. ``fs``, ``lead_names``, ``standardize`` and ``n_leads`` are fixed by the
            checkpoint.

        Returns
        -------
        estimator : ECGEmbedder
            A fitted estimator (of the class this is called on), ready for ``transform`` or as
            ``encoder=``.

        Raises
        ------
        pickle.UnpicklingError
            When the file references code outside the seed checkpoint's allow-list; nothing runs.
        ValueError
            When the file is not a seed checkpoint, or its weights do not fit the architecture
            (the keys are named).

        See Also
        --------
        sksurv_ecg.load_estimator : Load a directory written by ``save``.

        Examples
        --------
        >>> from sksurv_ecg import ECGEmbedder
        >>> emb = ECGEmbedder.from_seed_checkpoint("checkpoint_best_loss-v2.ckpt")  # doctest: +SKIP
        >>> emb.fs_, emb.n_timesteps_in_, emb.lead_names_[:3]  # doctest: +SKIP
        (500.0, 608, ['I', 'II', 'III'])
        """
        fixed = sorted({"fs", "lead_names", "standardize", "n_leads"} & set(params))
        if fixed:
            raise ValueError(
                f"{cls.__name__}.from_seed_checkpoint got {fixed}, which the checkpoint fixes: {SEED_FS:g} Hz, "
                f"the 12 leads {', '.join(LEAD_NAMES)} in this order, each lead z-scored; bring X to that form "
                "(sksurv_ecg.preprocessing.Resample for the rate) instead."
            )
        checkpoint = read_seed_checkpoint(path)
        estimator = cls(device=device, **params)
        estimator._validate_params()
        estimator._validate_routed()
        n_leads = len(LEAD_NAMES)
        estimator.n_features_in_ = estimator.n_leads_ = n_leads
        estimator.n_timesteps_in_ = SEED_N_TIMESTEPS
        estimator.fs_ = SEED_FS
        estimator.lead_names_ = list(LEAD_NAMES)
        estimator.lead_order_ = None
        estimator.device_ = check_device(device)
        check_precision(estimator.precision, estimator.device_)
        estimator._choose_impl()
        autoencoder = DualAttentionAutoencoder(**estimator._autoencoder_config(n_leads, SEED_N_TIMESTEPS))
        load_into(autoencoder, checkpoint.autoencoder, what="autoencoder", source=path)
        estimator._attach_module(estimator._seed_module(autoencoder, checkpoint, path))
        return estimator

    # --- model pieces -------------------------------------------------------------------------
    def _seed_module(self, autoencoder, checkpoint, path):
        """The task model around a seed checkpoint's autoencoder (the projectors are not used here)."""
        return self._build_module(autoencoder)

    def _build_module(self, autoencoder):
        return self._task_model(autoencoder)

    def _lr_schedule(self, n_train):
        return warmup_cosine_schedule(self.max_epochs * self._n_batches(n_train), self.warmup)

    def _epochs_to_train(self):
        if self.encoder is not None and not self.refit_encoder:
            return 0
        return self.max_epochs

    # --- scikit-learn API ---------------------------------------------------------------------
    def _fit_inputs(self, X, y):
        # BatchNorm cannot train on a single sample, so fitting needs two.
        return self._validate_X(X, reset=True, ensure_min_samples=2), None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the encoder (or copy it from ``encoder``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs; a 2-D array is unfolded with ``n_leads``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y)

    def _fit(self, X, y):
        self._validate_routed()
        X, y = self._fit_inputs(X, y)
        self._fit_net(X, y)
        return self

    def transform(self, X):
        """Embed ECGs into latent codes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs of the shape seen in ``fit``.

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim), dtype float32
            Latent codes (512 in the paper configuration).
        """
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        return self.net_.embed(X)

    @property
    def _n_features_out(self):
        return self.net_.module_.autoencoder.config.latent_dim

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class TextAlignedPretrainer(ECGEmbedder):  # numpydoc ignore=PR01,PR04,PR07
    # (the shared parameters are inserted into __doc__ below; tests check the complete docstring)
    """Pretraining with reconstruction and ECG-report alignment (the paper's LLM-informed step).

    ``fit(X, y)`` takes ``y`` as one text embedding per ECG (e.g. from
    :class:`sksurv_ecg.ReportEmbedder`). Both the latent ECG code and the text embedding are
    projected to 128-d (512 -> 256 -> 128 and d -> 256 -> 128); the loss is
    ``reconstruction_weight * MSE + alignment_weight * alignment``. The seed's alignment is
    ``mean(1 - cos)`` (``alignment="cosine"``), which pulls each ECG towards its own report with no
    negatives; ``alignment="infonce"`` is the symmetric contrastive (CLIP) variant.

    Parameters
    ----------
    alignment : {"cosine", "infonce"}, default="cosine"
        Alignment loss.
    alignment_weight : float, default=1.0
        Weight of the alignment term.
    reconstruction_weight : float, default=1.0
        Weight of the reconstruction term.
    temperature : float, default=0.1
        InfoNCE temperature.
    projection_dim : int, default=128
        Width of the shared projection space (hidden layers are twice as wide).
    <the parameters of ECGEmbedder, inserted below from its docstring>

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network (with both projection heads).
    history_ : skorch.History
        Per-epoch losses.
    n_features_in_ : int
        Number of leads (or columns of a 2-D ``X``).
    n_leads_ : int
        Number of leads.
    n_timesteps_in_ : int
        Number of time steps.
    n_text_features_ : int
        Width of the text embeddings.
    fs_ : float
        Sampling rate of the ECGs the network was fitted on, in Hz.
    lead_names_ : list of str or None
        Names of the leads of ``X`` in the order ``fit`` got them (None: unnamed).
    lead_order_ : list of int or None
        Columns of ``X`` in the order the network reads them, when the ``encoder`` had the same
        leads in another order; None when ``X`` is read as given.
    device_ : str
        Device the model lives on.
    impl_ : {"fast", "reference"}
        How the network is computed (see :class:`ECGEmbedder`).

    See Also
    --------
    ECGEmbedder : Pretraining without text.
    ReportEmbedder : Text embeddings of PTB-XL reports.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg import TextAlignedPretrainer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((8, 12, 64)).astype("float32")
    >>> text = rng.standard_normal((8, 16)).astype("float32")
    >>> pre = TextAlignedPretrainer(max_epochs=1, batch_size=4, random_state=0).fit(X, text)
    >>> pre.transform(X).shape
    (8, 512)
    """

    _parameter_constraints: dict = {
        **ECGEmbedder._parameter_constraints,
        "alignment": [StrOptions({"cosine", "infonce"})],
        "alignment_weight": [Interval(Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "projection_dim": [Interval(Integral, 1, None, closed="left")],
    }

    _net_class = AlignNet
    _criterion_params = ("reconstruction_weight", "alignment_weight", "alignment", "temperature")
    _fitted_attributes = ("n_text_features_",)

    def __init__(
        self,
        *,
        alignment="cosine",
        alignment_weight=1.0,
        reconstruction_weight=1.0,
        temperature=0.1,
        projection_dim=128,
        n_leads=None,
        fs=500,
        lead_names=None,
        encoder=None,
        refit_encoder=False,
        max_epochs=300,
        batch_size=128,
        lr=1e-3,
        weight_decay=0.01,
        warmup=0.2,
        dropout=0.2,
        dropout_mode="batchwise",
        lead_mask_prob=0.5,
        standardize=True,
        validation_fraction=None,
        device="cpu",
        precision="float32",
        checkpoint_dir=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        super().__init__(
            n_leads=n_leads,
            fs=fs,
            lead_names=lead_names,
            encoder=encoder,
            refit_encoder=refit_encoder,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            warmup=warmup,
            dropout=dropout,
            dropout_mode=dropout_mode,
            lead_mask_prob=lead_mask_prob,
            standardize=standardize,
            validation_fraction=validation_fraction,
            device=device,
            precision=precision,
            checkpoint_dir=checkpoint_dir,
            random_state=random_state,
            verbose=verbose,
            **kwargs,
        )
        self.alignment = alignment
        self.alignment_weight = alignment_weight
        self.reconstruction_weight = reconstruction_weight
        self.temperature = temperature
        self.projection_dim = projection_dim

    def _seed_module(self, autoencoder, checkpoint, path):
        """The task model with the checkpoint's projection heads, which define the text alignment."""
        missing = [name for name in ("ecg_projector", "text_projector") if name not in checkpoint.projectors]
        if missing:
            raise ValueError(
                f"{str(path)!r} holds no {missing} weights, which TextAlignedPretrainer needs to keep the text "
                "alignment; load it with ECGEmbedder.from_seed_checkpoint for the encoder alone."
            )
        text = checkpoint.projectors["text_projector"]
        self.n_text_features_ = int(text["net.0.weight"].shape[1])
        width = int(text[max(k for k in text if k.endswith("weight"))].shape[0])
        if width != self.projection_dim:
            raise ValueError(
                f"{str(path)!r} projects to {width} dimensions, but projection_dim={self.projection_dim}; "
                f"pass projection_dim={width}."
            )
        module = self._build_module(autoencoder)
        load_into(module.ecg_projection, checkpoint.projectors["ecg_projector"], what="ecg_projector", source=path)
        load_into(module.text_projection, text, what="text_projector", source=path)
        return module

    def _build_module(self, autoencoder):
        latent = autoencoder.config.latent_dim
        hidden = 2 * self.projection_dim
        return self._task_model(
            autoencoder,
            ecg_projection=ProjectionHead(latent, hidden, self.projection_dim),
            text_projection=ProjectionHead(self.n_text_features_, hidden, self.projection_dim),
        )

    def _fit_inputs(self, X, y):
        X = self._validate_X(X, reset=True, ensure_min_samples=2)
        y = check_text_embeddings(y, X.shape[0])
        self.n_text_features_ = y.shape[1]
        return X, y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Pretrain with reconstruction and ECG-text alignment.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECGs.
        y : array-like of shape (n_samples, n_text_features)
            One report embedding per ECG.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True  # y holds one embedding vector per sample
        return tags


def _shared_parameters(doc: str) -> str:
    """The ``Parameters`` entries of :class:`ECGEmbedder`'s docstring, from ``n_leads`` to the end."""
    start = doc.index("    n_leads : ")
    return doc[start : doc.index("    Attributes\n", start)]


# one text for the parameters both encoders share, so that their documentation cannot drift apart
# (skorch builds NeuralNetClassifier's docstring from NeuralNet's the same way)
TextAlignedPretrainer.__doc__ = TextAlignedPretrainer.__doc__.replace(
    "    <the parameters of ECGEmbedder, inserted below from its docstring>\n\n",
    _shared_parameters(ECGEmbedder.__doc__),
)
