"""National reference figures from the POET surveys of personal health budget holders
and carers (In Control and Lancaster University, 2013, 2014 and 2015).

Only a figure a published page states exactly is entered, with the page and the words
it uses. The 2015 survey's publishers state only bounds ("over 80% ... quality of life,
independence and arranging support", "over three quarters of carers ..."), and the 2014
survey's publisher "over 80%"; those are not exact figures, so they are not entered.
The one exact headline we found is the 2014 survey's 86% for quality of life, stated on
NHS England's Integrated Personal Commissioning programme page. Commissioners add more
from the full reports on the reference figures page.

Reversible: undoing it removes exactly the rows it added."""

from decimal import Decimal

from django.db import migrations

FIGURES = [
    {
        "respondent_kind": "holder",
        "area": "quality_of_life",
        "better_percent": Decimal("86.0"),
        "respondents": 129,
        "source": (
            "POET survey of personal health budget holders and carers 2014 "
            "(In Control and Lancaster University), as reported by NHS England's "
            "Integrated Personal Commissioning programme"
        ),
        "source_url": (
            "https://www.ipcprogramme.org.uk/topics/managing-change/measuring-the-results/about/"
        ),
        "published_year": 2014,
        "note": (
            "In 2014 129 personal health budget holders and 101 carers completed the "
            'survey: "86% of people reporting improved quality of life, and fewer than '
            '6% reporting any negative outcomes."'
        ),
    },
]


def load(apps, schema_editor):
    ReferenceFigure = apps.get_model("outcomes", "ReferenceFigure")
    for figure in FIGURES:
        ReferenceFigure.objects.get_or_create(
            respondent_kind=figure["respondent_kind"],
            area=figure["area"],
            published_year=figure["published_year"],
            source_url=figure["source_url"],
            defaults=figure,
        )


def unload(apps, schema_editor):
    ReferenceFigure = apps.get_model("outcomes", "ReferenceFigure")
    for figure in FIGURES:
        ReferenceFigure.objects.filter(
            respondent_kind=figure["respondent_kind"],
            area=figure["area"],
            published_year=figure["published_year"],
            source_url=figure["source_url"],
            entered_by__isnull=True,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0002_instruments")]

    operations = [migrations.RunPython(load, unload)]
