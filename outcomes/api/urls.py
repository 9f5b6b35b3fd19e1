"""Outcomes API routes (joined into config/api_router.py)."""

urlpatterns: list = []
