"""fbcm: apply the desired state of Meta ad objects kept in dbt models."""

__version__ = "0.1.0"
