"""The authorization matrix: for every URL pattern, which kinds of caller may use it.

This is the one place to read who can reach what. ``AuthorizationMatrixMiddleware``
enforces it for pages (a URL missing here answers 404), ``HasRequiredScopes`` for the
API, and ``tests/test_authorization_matrix.py`` walks every URL in the URLconf against
it for every kind of user, failing on any URL that is not declared here.

Which *records* a permitted caller sees is narrower still: views reach records only
through ``.for_user(user)`` querysets, so someone else's record answers 404.
"""

from core.authz import Access as A

PUBLIC = frozenset({A.PUBLIC})
SIGNED_IN = frozenset({A.SIGNED_IN})
STAFF = frozenset({A.STAFF})
AUDITORS = frozenset({A.COMMISSIONER, A.ORGANISATION_ADMIN, A.PLATFORM_ADMIN})
ORG_ADMINS = frozenset({A.ORGANISATION_ADMIN})
HOLDER_RECORDS = frozenset({A.HOLDER, A.REPRESENTATIVE, A.STAFF})
HOLDER_SIDE = frozenset({A.HOLDER, A.REPRESENTATIVE})
BUDGET_MANAGERS = frozenset({A.COMMISSIONER, A.FINANCE_OFFICER})
FINANCE = frozenset({A.FINANCE_OFFICER})
COMMISSIONERS = frozenset({A.COMMISSIONER})
HOLDER_STAFF = frozenset(
    {A.CARE_COORDINATOR, A.SUPPORT_PLANNER, A.CLINICIAN, A.COMMISSIONER, A.FINANCE_OFFICER}
)
PARTNERS = frozenset({A.STAFF, A.APPLICATION})
PLAN_QUEUE_ROLES = frozenset({A.SUPPORT_PLANNER, A.CLINICIAN, A.COMMISSIONER})
PLAN_SIGN_OFF = frozenset({A.CLINICIAN, A.COMMISSIONER})
PLAN_REVIEWERS = frozenset({A.SUPPORT_PLANNER, A.CLINICIAN, A.CARE_COORDINATOR})
PROVIDERS = frozenset({A.PROVIDER_STAFF, A.ORGANISATION_ADMIN})
# Buying: the holder's side, the staff who serve them, and the provider's staff.
BUYING = frozenset({A.HOLDER, A.REPRESENTATIVE, A.STAFF})

MATRIX: dict[str, frozenset[A]] = {
    # Pages for everyone
    "home": PUBLIC,
    "healthz": PUBLIC,
    "core:accessibility": PUBLIC,
    # Signing in and account security (allauth)
    "account_login": PUBLIC,
    "account_logout": PUBLIC,
    "account_inactive": PUBLIC,
    "account_signup": PUBLIC,
    "account_reauthenticate": SIGNED_IN,
    "account_email": SIGNED_IN,
    "account_email_verification_sent": PUBLIC,
    "account_change_password": SIGNED_IN,
    "account_set_password": SIGNED_IN,
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": PUBLIC,
    "account_reset_password_from_key_done": PUBLIC,
    "account_confirm_login_code": PUBLIC,
    "account_confirm_email": PUBLIC,
    "mfa_index": SIGNED_IN,
    "mfa_authenticate": PUBLIC,  # the second step of signing in, before the session is full
    "mfa_reauthenticate": SIGNED_IN,
    "mfa_activate_totp": SIGNED_IN,
    "mfa_deactivate_totp": SIGNED_IN,
    "mfa_view_recovery_codes": SIGNED_IN,
    "mfa_generate_recovery_codes": SIGNED_IN,
    "mfa_download_recovery_codes": SIGNED_IN,
    # Notifications (each person's own)
    "core:notification_list": SIGNED_IN,
    "core:notification_read": SIGNED_IN,
    "core:notification_read_all": SIGNED_IN,
    # Audit log
    "core:audit_search": AUDITORS,
    # Organisation members (admins of that organisation only)
    "users:member_list": ORG_ADMINS,
    "users:member_invite": ORG_ADMINS,
    "users:member_change": ORG_ADMINS,
    "users:member_remove": ORG_ADMINS,
    "users:invitation_revoke": ORG_ADMINS,
    "users:invitation_accept": PUBLIC,  # the token is the key; accepting needs sign-in
    # Budget holders' records (finding and opening them: budgets/views/holders.py)
    "budgets:holder_list": HOLDER_RECORDS,
    "budgets:holder_create": HOLDER_STAFF,
    "budgets:holder_detail": HOLDER_RECORDS,
    # Money as holders and representatives see it (budgets/views/money.py); staff of
    # the holder's organisations and third-party managers see the same pages.
    "budgets:budget_detail": HOLDER_RECORDS,
    "budgets:budget_ledger": HOLDER_RECORDS,
    "budgets:spend_list": HOLDER_RECORDS,
    "budgets:spend_create": HOLDER_RECORDS,
    "budgets:spend_detail": HOLDER_RECORDS,
    "budgets:spend_receipt": HOLDER_RECORDS,
    "budgets:spend_refund": HOLDER_RECORDS,
    "budgets:spend_query_answer": HOLDER_RECORDS,
    "budgets:notice_list": HOLDER_SIDE,
    "budgets:recovery_detail": HOLDER_RECORDS,
    "budgets:recovery_reconsider": HOLDER_SIDE,
    # Setting budgets up (budgets/views/setup.py)
    "budgets:budget_create": BUDGET_MANAGERS,
    "budgets:budget_transition": BUDGET_MANAGERS,
    "budgets:contribution_add": BUDGET_MANAGERS,
    "budgets:contribution_change": BUDGET_MANAGERS,
    "budgets:ras_assess": HOLDER_STAFF,
    "budgets:ras_assessment_detail": HOLDER_RECORDS,
    "budgets:ras_override": COMMISSIONERS,
    # Finance and monitoring (budgets/views/finance.py)
    "budgets:flag_list": HOLDER_STAFF,
    "budgets:flag_move": HOLDER_STAFF,
    "budgets:allocation_run_list": BUDGET_MANAGERS,
    "budgets:allocation_run_detail": BUDGET_MANAGERS,
    "budgets:allocation_run_now": FINANCE,
    "budgets:spend_verify": FINANCE,
    "budgets:spend_query": FINANCE,
    "budgets:transaction_correct": FINANCE,
    "budgets:recovery_list": BUDGET_MANAGERS,
    "budgets:recovery_propose": FINANCE,
    "budgets:recovery_decide": FINANCE,
    "budgets:reconciliation_list": BUDGET_MANAGERS,
    # Support plans (plans/views/holder.py): the person, those who represent them and
    # the staff who serve them; the views decide who may write (plans/permissions.py).
    "plans:plan_list": HOLDER_RECORDS,
    "plans:plan_start": HOLDER_RECORDS,
    "plans:plan_detail": HOLDER_RECORDS,
    "plans:plan_comment": HOLDER_RECORDS,
    "plans:plan_tasks": HOLDER_RECORDS,
    "plans:plan_submit": HOLDER_RECORDS,
    "plans:plan_money": HOLDER_RECORDS,
    "plans:plan_step": HOLDER_RECORDS,
    "plans:plan_part": HOLDER_RECORDS,
    "plans:plan_part_remove": HOLDER_RECORDS,
    "plans:plan_print": HOLDER_RECORDS,
    "plans:plan_pdf": HOLDER_RECORDS,
    "plans:plan_compare": HOLDER_RECORDS,
    # Support plans, staff (plans/views/staff.py): queues, sign-off, reviews, ending.
    "plans:queue": PLAN_QUEUE_ROLES,
    "plans:plan_signoff": PLAN_SIGN_OFF,
    "plans:plan_approve": PLAN_SIGN_OFF,
    "plans:plan_request_changes": PLAN_SIGN_OFF,
    "plans:plan_review": PLAN_REVIEWERS,
    "plans:plan_end": PLAN_QUEUE_ROLES,
    # Marketplace: finding support (marketplace/views/search.py) and reviews.
    # MARKET-SEARCH-BEGIN
    # MARKET-SEARCH-END
    # Marketplace: provider pages (marketplace/views/provider.py), provider staff only.
    # MARKET-PROVIDER-BEGIN
    # MARKET-PROVIDER-END
    # Marketplace: the commissioner's view of the market (marketplace/views/market.py).
    # MARKET-COMMISSIONER-BEGIN
    # MARKET-COMMISSIONER-END
    # Marketplace: enquiries, bookings, invoices (marketplace/views/buying.py).
    # MARKET-BUYING-BEGIN
    # MARKET-BUYING-END
    # Marketplace: pooled purchases (marketplace/views/pools.py).
    # MARKET-POOLS-BEGIN
    # MARKET-POOLS-END
    # Marketplace: Shared Lives profiles and matching (marketplace/views/sharedlives.py).
    # MARKET-SHAREDLIVES-BEGIN
    # MARKET-SHAREDLIVES-END
    # The Open Referral UK feed (marketplace/oruk/): public and read-only.
    # MARKET-ORUK-BEGIN
    # MARKET-ORUK-END
    # REST API
    "api:me": frozenset({A.SIGNED_IN, A.APPLICATION}),
    "api:organisation_list": frozenset({A.STAFF, A.APPLICATION}),
    "api:organisation_detail": frozenset({A.STAFF, A.APPLICATION}),
    "api:organisation_members": frozenset({A.STAFF, A.APPLICATION}),
    "api:holder_list": PARTNERS,
    "api:holder_detail": PARTNERS,
    "api:budget_list": PARTNERS,
    "api:budget_detail": PARTNERS,
    "api:transaction_list": PARTNERS,
    "api:spend_create": PARTNERS,
    "api:allocation_run_list": PARTNERS,
    "api:allocation_run_detail": PARTNERS,
    # Support plans and their FHIR views (plans/api/): the services decide who may act.
    "api:plan_list": PARTNERS,
    "api:plan_detail": PARTNERS,
    "api:plan_versions": PARTNERS,
    "api:plan_submit": PARTNERS,
    "api:plan_approve": PARTNERS,
    "api:plan_request_changes": PARTNERS,
    "api:fhir_patient": PARTNERS,
    "api:fhir_careplan": PARTNERS,
    "api:fhir_goal": PARTNERS,
    # Marketplace API (marketplace/api/).
    # MARKET-API-BEGIN
    # MARKET-API-END
    "api:schema": PUBLIC,
    "api:docs": PUBLIC,
    "oauth2_provider:token": PUBLIC,
    "oauth2_provider:revoke-token": PUBLIC,
    "oauth2_provider:introspect": PUBLIC,
    # Django admin: platform administrators (its own login redirects to ours)
    "admin:login": PUBLIC,
    # Commissioners and finance officers get the budgets screens, scoped to their
    # organisations; everything else in the admin stays platform admins' own.
    "admin:*": frozenset({A.PLATFORM_ADMIN, A.COMMISSIONER, A.FINANCE_OFFICER}),
    # Debug-only component gallery
    "styleguide": PUBLIC,
}
