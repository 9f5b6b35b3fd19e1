"""Pages for budgets, one module per audience: ``holders`` (finding and opening
records), ``money`` (what holders and representatives use: my budget, my spending,
notices), ``setup`` (budgets, funding and indicative amounts for commissioners and
finance), ``finance`` (flags, allocation runs, verifying spends, recoveries). Each
module keeps its own ``urlpatterns``; ``budgets/urls.py`` joins them."""
