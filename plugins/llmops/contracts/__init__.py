"""The data contracts both sides read: the Spark jobs (spark_jobs) and the runtime (llmops).

A leaf: nothing here imports anything of the project, so ``spark_jobs -> llmops.contracts`` never closes a
cycle. ``raw_landing`` holds the landing zone's sources, value sets and quarantine reasons;
``personal_data`` the personal-data types, their placeholders and detection patterns. The lake's table
schemas as Spark types stay with the Spark jobs (spark_jobs.schemas).
"""
