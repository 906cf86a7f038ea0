-- MLflow's tracking store lives beside Airflow's metadata DB (both use alembic: separate databases)
CREATE DATABASE mlflow OWNER airflow;
