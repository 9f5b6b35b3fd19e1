"""The wording of version 1 of the three instruments, in our own words and in the shape
of the national Personal Outcomes Evaluation Tool: outcome areas answered on a
better / the same / worse scale, questions on how the budget process went, and the
wider effects that matter. Migration 0002 loads it; an admin changes it by publishing
a new version (outcomes/instruments.py), never by editing this file's rows in place.

Each question is (code, section, kind, text, hint, area or measure, options); option
tuples are (code, label, polarity)."""

from __future__ import annotations

from typing import Any

P, N, X = "positive", "neutral", "negative"

EASE = [
    ("very_easy", "Very easy", P),
    ("fairly_easy", "Fairly easy", P),
    ("neither", "Neither easy nor hard", N),
    ("fairly_hard", "Fairly hard", X),
    ("very_hard", "Very hard", X),
    ("dont_know", "I don't know or can't remember", N),
]
INCLUDED = [
    ("fully", "Yes, fully", P),
    ("partly", "Yes, partly", N),
    ("not_at_all", "No, not at all", X),
    ("dont_know", "I don't know", N),
]
YES_PARTLY_NO = [
    ("yes", "Yes", P),
    ("partly", "Partly", N),
    ("no", "No", X),
    ("dont_know", "I don't know", N),
]
MORE_SAME_LESS = [
    ("more", "More than before", P),
    ("same", "About the same", N),
    ("less", "Less than before", X),
    ("dont_know", "I don't know", N),
]
HARM = [
    ("never", "No, never", P),
    ("once_or_twice", "Yes, once or twice", X),
    ("often", "Yes, often", X),
    ("dont_know", "I don't know", N),
]
WHO_HELPED = [
    ("nobody", "Nobody: I planned on my own", N),
    ("family_friends", "Family or friends", N),
    ("nhs_staff", "NHS staff, such as a care coordinator or nurse", N),
    ("council_staff", "Council staff, such as a social worker", N),
    ("independent_planner", "An independent support planner or broker", N),
    ("peer", "Someone who has a budget of their own", N),
    ("provider", "A support provider", N),
    ("other", "Someone else", N),
]
HOW_MANAGED = [
    ("notional", "The NHS or council holds the money and arranges support for me", N),
    ("third_party", "An organisation holds the money and arranges support for me", N),
    ("direct_payment_self", "I get a direct payment and manage it myself", N),
    ("direct_payment_family", "I get a direct payment and family or a friend manages it", N),
    ("mix", "A mix of these", N),
    ("dont_know", "I don't know", N),
]

Q = tuple[str, str, str, str, str, str, list[tuple[str, str, str]]]


def _change(code: str, text: str, hint: str = "", area: str = "") -> Q:
    return (code, "outcomes", "change", text, hint, area or code, [])


HOLDER_CHANGES: list[tuple[str, str, str]] = [
    ("physical_health", "Your physical health", ""),
    ("mental_wellbeing", "How you feel in yourself: your mood and peace of mind", ""),
    ("independence", "Doing things for yourself, in your own way", ""),
    ("control", "Having a say over the things that matter most in your life", ""),
    ("getting_support", "Getting the support you need, when you need it", ""),
    ("dignity", "Being treated with respect by the people who support you", ""),
    ("safe_at_home", "Feeling safe at home", ""),
    ("safe_outside", "Feeling safe when you are out and about", ""),
    ("family", "Getting on with your family", ""),
    ("friends", "Your friendships", ""),
    ("paid_supporters", "Getting on with the people paid to support you", ""),
    ("community", "Taking part in life where you live", "Clubs, groups, shops, faith, sport"),
    ("paid_work", "Getting or keeping paid work", ""),
    ("volunteering", "Volunteering or helping other people", ""),
    ("where_you_live", "Where you live, and who you live with", ""),
    ("quality_of_life", "Your life as a whole", ""),
    ("self_esteem", "How you feel about yourself", ""),
]

STAFF_CHANGES: list[tuple[str, str, str]] = [
    ("physical_health", "Their physical health", ""),
    ("mental_wellbeing", "Their mood and peace of mind", ""),
    ("independence", "Doing things for themselves, in their own way", ""),
    ("control", "Having a say over the things that matter most in their life", ""),
    ("getting_support", "Getting the support they need, when they need it", ""),
    ("dignity", "Being treated with respect by the people who support them", ""),
    ("safe_at_home", "Feeling safe at home", ""),
    ("safe_outside", "Feeling safe when they are out and about", ""),
    ("family", "Getting on with their family", ""),
    ("friends", "Their friendships", ""),
    ("paid_supporters", "Getting on with the people paid to support them", ""),
    ("community", "Taking part in life where they live", ""),
    ("paid_work", "Getting or keeping paid work", ""),
    ("volunteering", "Volunteering or helping other people", ""),
    ("where_you_live", "Where they live, and who they live with", ""),
    ("quality_of_life", "Their life as a whole", ""),
    ("self_esteem", "How they feel about themselves", ""),
]

CARER_CHANGES: list[tuple[str, str, str]] = [
    ("carer_health", "Your own health and wellbeing", ""),
    ("keep_caring", "Being able to carry on caring", ""),
    ("carer_quality_of_life", "Your own life as a whole", ""),
    ("cared_for_quality_of_life", "The life of the person you care for, as a whole", ""),
    ("daily_stress", "The stress of day-to-day life", "Better here means less stress."),
    ("carer_choice_control", "Your choice and control over your own life", ""),
    ("emergency_backup", "Having back-up you can count on in an emergency", ""),
]

INSTRUMENTS: dict[str, dict[str, Any]] = {
    "holder": {
        "title": "Your personal health budget: what has changed",
        "introduction": (
            "We want to know whether having a personal health budget has made a "
            "difference to your life, and how easy the process has been. There are no "
            "right or wrong answers. You can skip any question, stop and come back "
            "later: your answers are saved as you go. What you tell us is counted with "
            "other people's answers and never shown with your name."
        ),
        "questions": [
            *[_change(code, text, hint) for code, text, hint in HOLDER_CHANGES],
            (
                "ease_getting",
                "process",
                "choice",
                "How easy or hard was it to get your personal health budget?",
                "",
                "ease",
                EASE,
            ),
            (
                "ease_planning",
                "process",
                "choice",
                "How easy or hard was it to plan how your budget is used?",
                "",
                "ease",
                EASE,
            ),
            (
                "ease_changing",
                "process",
                "choice",
                "How easy or hard is it to change your plan when you need to?",
                "",
                "ease",
                EASE,
            ),
            (
                "views_included",
                "process",
                "choice",
                "Were your own views included in your support plan?",
                "",
                "views",
                INCLUDED,
            ),
            (
                "know_amount",
                "process",
                "choice",
                "Do you know how much money is in your budget?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "decide_spending",
                "process",
                "choice",
                "Can you decide how your budget is spent?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "information",
                "process",
                "choice",
                "Did you get the information and advice you needed?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "who_helped",
                "process",
                "multiple",
                "Who helped you plan?",
                "Choose all that apply.",
                "",
                WHO_HELPED,
            ),
            (
                "how_managed",
                "process",
                "choice",
                "How is your budget looked after?",
                "",
                "",
                HOW_MANAGED,
            ),
            (
                "understand_condition",
                "wider",
                "choice",
                "Do you understand your health, and the choices open to you, better than before?",
                "",
                "",
                MORE_SAME_LESS,
            ),
            (
                "community_connections",
                "wider",
                "choice",
                "Have you kept up, and made new, connections with people and places near you?",
                "",
                "",
                MORE_SAME_LESS,
            ),
            (
                "informal_support_harm",
                "wider",
                "choice",
                "Has paid support ever made it harder for family or friends to help you?",
                "For example support that came at bad times, took place somewhere that felt "
                "like an institution, or was given in a way that knocked their confidence.",
                "",
                HARM,
            ),
            (
                "anything_else",
                "about",
                "text",
                "Is there anything else you would like to tell us?",
                "",
                "",
                [],
            ),
        ],
    },
    "carer": {
        "title": "Caring for someone with a personal health budget",
        "introduction": (
            "You are asked because you care for someone who has a personal health "
            "budget. We want to know whether it has made a difference to your life and "
            "theirs. You can skip any question, and your answers are saved as you go. "
            "Answers are counted together and never shown with your name."
        ),
        "questions": [
            *[_change(code, text, hint) for code, text, hint in CARER_CHANGES],
            (
                "ease_getting",
                "process",
                "choice",
                "How easy or hard was it for the person you care for to get their budget?",
                "",
                "ease",
                EASE,
            ),
            (
                "views_included",
                "process",
                "choice",
                "Were your views as a carer included in their support plan?",
                "",
                "views",
                INCLUDED,
            ),
            (
                "information",
                "process",
                "choice",
                "Did you get the information and advice you needed?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "carer_training",
                "wider",
                "choice",
                "Have you been offered training for the caring you do, if you wanted it?",
                "",
                "",
                [
                    ("yes", "Yes", P),
                    ("not_wanted", "I did not need or want any", N),
                    ("no", "No", X),
                ],
            ),
            (
                "carer_backup",
                "wider",
                "choice",
                "Is there a plan for what happens if you cannot care, even for a day?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "informal_support_harm",
                "wider",
                "choice",
                "Has paid support ever made it harder for you to care?",
                "For example support that came at bad times, took place somewhere that felt "
                "like an institution, or was given in a way that knocked your confidence.",
                "",
                HARM,
            ),
            (
                "anything_else",
                "about",
                "text",
                "Is there anything else you would like to tell us?",
                "",
                "",
                [],
            ),
        ],
    },
    "staff": {
        "title": "Staff view: how a personal health budget is working",
        "introduction": (
            "Please answer about the person named in your invitation, from what you "
            "know of their life before and since their personal health budget. Answers "
            "are counted with other staff answers for your area."
        ),
        "questions": [
            *[_change(code, text, hint) for code, text, hint in STAFF_CHANGES],
            (
                "ease_getting",
                "process",
                "choice",
                "How easy or hard was it for them to get their budget?",
                "",
                "ease",
                EASE,
            ),
            (
                "ease_planning",
                "process",
                "choice",
                "How easy or hard was it to plan how the budget is used?",
                "",
                "ease",
                EASE,
            ),
            (
                "ease_changing",
                "process",
                "choice",
                "How easy or hard is it to change their plan when they need to?",
                "",
                "ease",
                EASE,
            ),
            (
                "views_included",
                "process",
                "choice",
                "Were their own views included in their support plan?",
                "",
                "views",
                INCLUDED,
            ),
            (
                "information",
                "process",
                "choice",
                "Did they get the information and advice they needed?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "decide_spending",
                "process",
                "choice",
                "Can they decide how their budget is spent?",
                "",
                "",
                YES_PARTLY_NO,
            ),
            (
                "understand_condition",
                "wider",
                "choice",
                "Do they understand their health, and their choices, better than before?",
                "",
                "",
                MORE_SAME_LESS,
            ),
            (
                "community_connections",
                "wider",
                "choice",
                "Have they kept up, and made new, connections with people and places near them?",
                "",
                "",
                MORE_SAME_LESS,
            ),
            (
                "informal_support_harm",
                "wider",
                "choice",
                "Has paid support ever made it harder for their family or friends to help?",
                "",
                "",
                HARM,
            ),
            (
                "anything_else",
                "about",
                "text",
                "Is there anything else you would like to tell us?",
                "",
                "",
                [],
            ),
        ],
    },
}
