"""Spark jobs of the data layer. Each job module is a spark-submit-able entrypoint; transforms are
pure functions (DataFrame in, DataFrame out) in ``spark_jobs.transforms``."""
