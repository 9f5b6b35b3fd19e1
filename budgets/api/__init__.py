"""The budgets part of the REST API (``/api/v1/``): holders, budgets, the ledger,
spending and allocation runs."""
