"""Great Expectations gates of the lake's bronze, silver and gold layers.

``suites`` says what must be true of each layer, ``gate`` runs a layer's gate for one logical
date (``python -m expectations.gate``), ``verdict`` turns the results into JSON and a log table.
"""
