"""The version of sksurv-ecg, in one place (the package and its saved-model metadata read it)."""

__version__ = "0.1.0"
