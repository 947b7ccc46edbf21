"""Prefect flows of synthese (deployed by prefect.yaml)."""
