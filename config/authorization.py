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
    "marketplace:search": PUBLIC,
    "marketplace:service_detail": PUBLIC,
    "marketplace:provider_profile": PUBLIC,
    "marketplace:review_create": HOLDER_SIDE,
    "marketplace:review_queue": COMMISSIONERS,
    "marketplace:review_moderate": COMMISSIONERS,
    # MARKET-SEARCH-END
    # Marketplace: provider pages (marketplace/views/provider.py), provider staff only.
    # MARKET-PROVIDER-BEGIN
    "marketplace:provider_home": PROVIDERS,
    "marketplace:provider_create": PROVIDERS,
    "marketplace:provider_edit": PROVIDERS,
    "marketplace:service_create": PROVIDERS,
    "marketplace:service_edit": PROVIDERS,
    "marketplace:service_withdraw": PROVIDERS,
    "marketplace:location_create": PROVIDERS,
    "marketplace:location_edit": PROVIDERS,
    # MARKET-PROVIDER-END
    # Marketplace: the commissioner's view of the market (marketplace/views/market.py).
    # MARKET-COMMISSIONER-BEGIN
    "marketplace:market_overview": COMMISSIONERS,
    "marketplace:market_provider_list": COMMISSIONERS,
    "marketplace:market_service_list": COMMISSIONERS,
    "marketplace:verification_queue": COMMISSIONERS,
    "marketplace:provider_verify": COMMISSIONERS,
    "marketplace:category_list": COMMISSIONERS,
    "marketplace:category_create": COMMISSIONERS,
    # MARKET-COMMISSIONER-END
    # Marketplace: enquiries, bookings, invoices (marketplace/views/buying.py).
    # MARKET-BUYING-BEGIN
    "marketplace:enquiry_create": BUYING,
    "marketplace:booking_create": BUYING,
    "marketplace:enquiry_detail": BUYING,
    "marketplace:booking_list": BUYING,
    "marketplace:booking_detail": BUYING,
    "marketplace:booking_accept": PROVIDERS,
    "marketplace:booking_decline": PROVIDERS,
    "marketplace:booking_cancel": BUYING,
    "marketplace:booking_deliver": PROVIDERS,
    "marketplace:invoice_create": PROVIDERS,
    "marketplace:invoice_approve": BUYING,
    "marketplace:invoice_dispute": BUYING,
    # MARKET-BUYING-END
    # Marketplace: pooled purchases (marketplace/views/pools.py).
    # MARKET-POOLS-BEGIN
    # Holders and representatives join and leave; staff of the pool's ICB or council
    # organise, fund and cancel; the provider's staff say whether it was bought. Which
    # pool, and which action, the views and marketplace/pooling.py decide (404 / 403).
    "marketplace:pool_list": BUYING,
    "marketplace:pool_create": BUYING,
    "marketplace:pool_detail": BUYING,
    "marketplace:pool_join": BUYING,
    "marketplace:pool_leave": BUYING,
    "marketplace:pool_fund": BUYING,
    "marketplace:pool_cancel": BUYING,
    "marketplace:pool_complete": BUYING,
    "marketplace:pool_fail": BUYING,
    # MARKET-POOLS-END
    # Marketplace: Shared Lives profiles and matching (marketplace/views/sharedlives.py).
    # MARKET-SHAREDLIVES-BEGIN
    # The person's profile (the holder's side or staff edit it; marketplace/matching.py
    # says who); the ranked carers show household facts and who was left out, so staff
    # only; a match is seen by the holder's side, their staff and the carer's staff.
    "marketplace:seeker_profile": HOLDER_RECORDS,
    "marketplace:seeker_matches": HOLDER_STAFF,
    "marketplace:match_detail": BUYING,
    "marketplace:carer_profile": PROVIDERS,
    # MARKET-SHAREDLIVES-END
    # The Open Referral UK feed (marketplace/oruk/): public and read-only.
    # MARKET-ORUK-BEGIN
    # The Open Referral UK feed is open to anyone by the standard's own rule.
    "oruk:api_details": PUBLIC,
    "oruk:service_list": PUBLIC,
    "oruk:service_detail": PUBLIC,
    "oruk:service_at_location_list": PUBLIC,
    "oruk:service_at_location_detail": PUBLIC,
    "oruk:taxonomy_list": PUBLIC,
    "oruk:taxonomy_detail": PUBLIC,
    "oruk:taxonomy_term_list": PUBLIC,
    "oruk:taxonomy_term_detail": PUBLIC,
    "oruk:not_found": PUBLIC,
    # MARKET-ORUK-END
    # Outcome surveys (outcomes/views/): answering, rounds, reports, improvement loop.
    # OUTCOMES-ANSWER-BEGIN
    # Answering outcome surveys (outcomes/views/answering.py). Any signed-in person:
    # holders, representatives and staff, and family carers who have an account but
    # no role; the views reach only the person's own invitations (for_user), so
    # anyone else's is a 404, and staff never read a person's answers there.
    "outcomes:survey_list": SIGNED_IN,
    "outcomes:survey_answer": SIGNED_IN,
    "outcomes:survey_decline": SIGNED_IN,
    "outcomes:survey_opt_out": SIGNED_IN,
    "outcomes:response_detail": SIGNED_IN,
    # The emailed link: the signed token is the key, checked on every request.
    "outcomes:survey_link": PUBLIC,
    "outcomes:survey_link_decline": PUBLIC,
    "outcomes:survey_link_opt_out": PUBLIC,
    # OUTCOMES-ANSWER-END
    # OUTCOMES-ROUNDS-BEGIN
    # Survey schedules and rounds: commissioners of the ICB or council only (the views
    # reach organisations through scheduling.commissioned_organisations, so another
    # organisation's schedule or round is 404). Rounds show counts, never names.
    "outcomes:round_list": COMMISSIONERS,
    "outcomes:round_detail": COMMISSIONERS,
    "outcomes:schedule_edit": COMMISSIONERS,
    "outcomes:survey_sweep_run": COMMISSIONERS,
    # OUTCOMES-ROUNDS-END
    # OUTCOMES-REPORTS-BEGIN
    # Outcome reports (outcomes/views/reports.py): aggregates of the user's own
    # organisations, small groups suppressed; national reference figures, which
    # commissioners add.
    "outcomes:report": HOLDER_STAFF,
    "outcomes:report_csv": HOLDER_STAFF,
    "outcomes:report_xlsx": HOLDER_STAFF,
    "outcomes:reference_list": HOLDER_STAFF,
    "outcomes:reference_create": COMMISSIONERS,
    # OUTCOMES-REPORTS-END
    # OUTCOMES-IMPROVEMENT-BEGIN
    # The improvement loop: commissioners of the organisation only (the views reach
    # records through outcomes.improvement.issues_for, so other organisations' are 404).
    "outcomes:improvement_home": COMMISSIONERS,
    "outcomes:issue_create": COMMISSIONERS,
    "outcomes:issue_detail": COMMISSIONERS,
    "outcomes:issue_edit": COMMISSIONERS,
    "outcomes:action_create": COMMISSIONERS,
    "outcomes:action_edit": COMMISSIONERS,
    "outcomes:session_create": COMMISSIONERS,
    "outcomes:session_detail": COMMISSIONERS,
    # OUTCOMES-IMPROVEMENT-END
    # REPORTING-DASHBOARD-BEGIN
    # The dashboard (core/reporting/views_dashboard.py): commissioners and finance
    # officers, for their own organisations (another organisation is 404). The spend
    # target is a commissioner's to set.
    "reporting:dashboard": BUDGET_MANAGERS,
    "reporting:dashboard_refresh": BUDGET_MANAGERS,
    "reporting:target_edit": COMMISSIONERS,
    # REPORTING-DASHBOARD-END
    # REPORTING-RETURNS-BEGIN
    # The quarterly PHB return (core/reporting/views_returns.py): commissioners and
    # finance officers of the ICB; the views reach only their own ICBs' returns (404).
    "reporting:return_list": BUDGET_MANAGERS,
    "reporting:return_detail": BUDGET_MANAGERS,
    "reporting:return_download": BUDGET_MANAGERS,
    "reporting:return_rebuild": BUDGET_MANAGERS,
    # REPORTING-RETURNS-END
    # REPORTING-REPORTS-BEGIN
    # Report jobs and the printable page (core/reporting/views_reports.py): commissioners
    # and finance officers, each for their own organisations; a job is its requester's
    # own (jobs_for), so anyone else's is a 404.
    "reporting:report_list": BUDGET_MANAGERS,
    "reporting:report_print": BUDGET_MANAGERS,
    "reporting:report_job": BUDGET_MANAGERS,
    "reporting:report_job_status": BUDGET_MANAGERS,
    "reporting:report_download": BUDGET_MANAGERS,
    # REPORTING-REPORTS-END
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
    # The market is open to read for anyone signed in and any application with the
    # scope; writes (POST, PATCH) are narrowed in the views to provider staff and admins
    # (``access_by_method``), and the listings services check it is their own listing.
    "api:category_list": frozenset({A.SIGNED_IN, A.APPLICATION}),
    "api:provider_list": frozenset({A.SIGNED_IN, A.APPLICATION}),
    "api:provider_detail": frozenset({A.SIGNED_IN, A.APPLICATION}),
    "api:service_list": frozenset({A.SIGNED_IN, A.APPLICATION}),
    "api:service_detail": frozenset({A.SIGNED_IN, A.APPLICATION}),
    # Bookings and pools: the buying side and provider staff (records through for_user).
    "api:booking_list": BUYING | {A.APPLICATION},
    "api:booking_detail": BUYING | {A.APPLICATION},
    "api:pool_list": BUYING | {A.APPLICATION},
    "api:pool_detail": BUYING | {A.APPLICATION},
    # MARKET-API-END
    # Outcomes API and FHIR views (outcomes/api/).
    # OUTCOMES-API-BEGIN
    # Instruments are no one's data: any staff member or application reads them. Rounds
    # (counts) and results (aggregated, suppressed) go to the roles that serve people and
    # to applications, each for their own organisations. Answers collected elsewhere are
    # sent by applications only. One response's answers are personal: the holder, their
    # representative, or an application of an organisation serving them; never staff.
    "api:outcome_instrument_list": PARTNERS,
    "api:outcome_instrument_detail": PARTNERS,
    "api:outcome_round_list": HOLDER_STAFF | {A.APPLICATION},
    "api:outcome_results": HOLDER_STAFF | {A.APPLICATION},
    "api:outcome_response_create": frozenset({A.APPLICATION}),
    "api:fhir_questionnaire": PARTNERS,
    "api:fhir_questionnaire_response": HOLDER_SIDE | {A.APPLICATION},
    # OUTCOMES-API-END
    # REPORTING-API-DASHBOARD-BEGIN
    # The dashboard's figures (core/reporting/api/dashboard.py): commissioners and
    # finance officers signed in, and applications with reports:read, for their own
    # organisations.
    "api:dashboard": BUDGET_MANAGERS | {A.APPLICATION},
    # REPORTING-API-DASHBOARD-END
    # REPORTING-API-RETURNS-BEGIN
    # The same returns for partner systems (scope reports:read, their own ICB's) and
    # for the ICB's commissioners and finance officers signed in.
    "api:quarterly_return_list": BUDGET_MANAGERS | {A.APPLICATION},
    "api:quarterly_return_detail": BUDGET_MANAGERS | {A.APPLICATION},
    "api:quarterly_return_csv": BUDGET_MANAGERS | {A.APPLICATION},
    # REPORTING-API-RETURNS-END
    # REPORTING-API-REPORTS-BEGIN
    # REPORTING-API-REPORTS-END
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
