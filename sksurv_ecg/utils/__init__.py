"""Utilities: input validation and estimator checks."""
