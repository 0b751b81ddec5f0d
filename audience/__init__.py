"""Tooling around the audience dbt project: demo data, the run command, the report."""
