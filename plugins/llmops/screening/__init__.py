"""Text screening shared by the clean job and the drift check: prompt-injection flags (``injection``) and
language identification (``langid``). Pure pyarrow, no Spark, so the runtime measures live prompts with
the same rules that screened the training data."""
