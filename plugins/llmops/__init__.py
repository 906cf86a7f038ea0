"""LLMOps on Airflow: the importable code behind the DAGs (DAG files only wire it together)."""

__version__ = "0.1.0"
