"""Forms for budgets pages, one module per audience, matching budgets/views/."""
