"""Data shipped with Restorer (models, samples, icons), read through importlib.resources."""
