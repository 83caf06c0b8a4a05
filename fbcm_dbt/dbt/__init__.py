"""dbt integration: `artifacts` reads dbt's JSON files (no dbt import), `backend` is the only
module that imports dbt, and `discovery` turns a manifest into the models fbcm manages."""
