"""Routed parameters of the deep estimators: storing, listing, cloning and refusing misspelt ones.

The parameters users tune most are flat ``__init__`` arguments; the rest are routed skorch-style
(``module__n_heads``, ``optimizer__betas``, ``iterator_train__num_workers``, ...). ``__init__`` only
stores them (:meth:`RoutedParamsMixin._set_routed`); ``get_params`` lists them so that ``clone`` and
``GridSearchCV`` see them; ``fit`` refuses misspelt names with a suggestion, as skorch does.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import fields

from sklearn.base import clone

from .nn import DualAttentionConfig

__all__ = ["ROUTED_PREFIXES", "RoutedParamsMixin"]

#: Prefixes of parameters that are routed to the network, the optimizer, the data loaders or the
#: skorch callbacks instead of being named in ``__init__``.
ROUTED_PREFIXES = ("module__", "optimizer__", "iterator_train__", "iterator_valid__", "callbacks__")

#: ``module__*`` keys that are not routed because the estimator sets them: the shape from ``X``,
#: dropout from its flat parameters.
_MODULE_KEYS_SET_BY_ESTIMATOR = {
    "n_leads": "it is taken from X",
    "n_timesteps": "it is taken from X",
    "dropout": "use the estimator's dropout parameter",
    "dropout_mode": "use the estimator's dropout_mode parameter",
}


def _module_keys():
    """The ``module__*`` names the network accepts (fields of ``DualAttentionConfig``)."""
    names = [f.name for f in fields(DualAttentionConfig) if f.name not in _MODULE_KEYS_SET_BY_ESTIMATOR]
    return [*names, "attention_impl"]  # the deprecated alias of impl (FutureWarning)


def _did_you_mean(key, candidates):
    match = difflib.get_close_matches(key, list(candidates), n=1)
    return f"; did you mean {match[0]!r}?" if match else "."


class RoutedParamsMixin:
    """Routed ``prefix__name`` parameters next to the flat ones of a scikit-learn estimator.

    Put it left of :class:`sklearn.base.BaseEstimator`: ``get_params`` and ``set_params`` extend
    the base's. The routed parameters live in the instance's ``__dict__`` like the flat ones.
    """

    def _set_routed(self, kwargs):
        """Store the routed ``**kwargs`` of ``__init__`` as attributes (checked at ``fit``)."""
        for key, value in kwargs.items():
            setattr(self, key, value)

    def _routed_params(self):
        return {k: v for k, v in vars(self).items() if k.startswith(ROUTED_PREFIXES) and not k.endswith("_")}

    def _unexpected_params(self):
        """Keywords given to ``__init__`` that are neither in its signature nor routed (typos)."""
        names = set(self._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if not (k.startswith("_") or k.endswith("_") or k in names or k.startswith(ROUTED_PREFIXES))
        }

    def _params_for(self, prefix):
        """The routed parameters of ``prefix`` (e.g. ``"module"``), without the prefix."""
        start = prefix + "__"
        return {k[len(start) :]: v for k, v in self._routed_params().items() if k.startswith(start)}

    def get_params(self, deep=True):
        """Get the parameters of this estimator, the routed ones included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        params.update(self._unexpected_params())  # kept, so that a clone fails at fit as the original
        return params

    def set_params(self, **params):
        """Set the parameters of this estimator, routed ones (``module__*``, ...) included.

        Parameters
        ----------
        **params : dict
            Estimator parameters.

        Returns
        -------
        self : estimator instance
            The estimator.
        """
        routed = {k: v for k, v in params.items() if k.startswith(ROUTED_PREFIXES)}
        for key, value in routed.items():
            setattr(self, key, value)
        return super().set_params(**{k: v for k, v in params.items() if k not in routed})

    def __sklearn_clone__(self):
        """Clone the hyper-parameters but keep a fitted ``encoder`` by reference.

        The pretrained encoder is frozen input to this estimator, like a
        :class:`sklearn.frozen.FrozenEstimator`: ``cross_validate`` and ``GridSearchCV`` must hand
        every fold the same fitted weights, not an unfitted copy. It is only read, never changed.

        Returns
        -------
        estimator : object
            An unfitted estimator with the same parameters.
        """
        encoder = getattr(self, "encoder", None)
        if encoder is None or isinstance(encoder, (str, os.PathLike)):
            return super().__sklearn_clone__()
        params = {k: clone(v, safe=False) for k, v in self.get_params(deep=False).items() if k != "encoder"}
        return type(self)(encoder=encoder, **params)

    def _validate_routed(self):
        """Refuse misspelt parameters and ``module__*`` keys the network does not accept.

        Called at the start of ``fit`` (``__init__`` only stores), as skorch does, with a
        suggestion from :mod:`difflib`.
        """
        name = type(self).__name__
        for key in self._unexpected_params():
            if "__" in key:
                prefix, rest = key.split("__", 1)
                match = difflib.get_close_matches(prefix + "__", ROUTED_PREFIXES, n=1)
                hint = f"; did you mean {match[0] + rest!r}?" if match else ";"
                raise TypeError(
                    f"{name} got an unexpected parameter {key!r}{hint} Routed parameters must start with one of "
                    f"{', '.join(ROUTED_PREFIXES)}."
                )
            raise TypeError(
                f"{name} got an unexpected parameter {key!r}{_did_you_mean(key, self._get_param_names())} "
                f"It is neither a parameter of {name} nor routed (a prefix {', '.join(ROUTED_PREFIXES)})."
            )
        accepted = _module_keys()
        for key in self._params_for("module"):
            if key in _MODULE_KEYS_SET_BY_ESTIMATOR:
                raise TypeError(
                    f"{name} got module__{key}, which the estimator sets itself: {_MODULE_KEYS_SET_BY_ESTIMATOR[key]}."
                )
            if key not in accepted:
                raise TypeError(
                    f"{name} got module__{key}, which the network does not accept{_did_you_mean(key, accepted)} "
                    f"Accepted module__ names: {', '.join(accepted)}."
                )
