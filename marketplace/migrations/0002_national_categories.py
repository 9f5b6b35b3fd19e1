"""The national taxonomy of support categories. Commissioners add their own terms to it;
these are the ones every area starts with. UUIDs are fixed so the feed's ids never move."""

import uuid

from django.db import migrations

TAXONOMY = uuid.UUID("6f0c1a52-7d0e-4e3a-9a51-2f7b8c1d0a01")
NAMESPACE = uuid.UUID("6f0c1a52-7d0e-4e3a-9a51-2f7b8c1d0a00")

CATEGORIES = [
    ("personal-assistance", "Personal assistance", "Help from a personal assistant you choose: at home, out and about, at work."),
    ("care-at-home", "Care and support at home", "Personal care and everyday help at home from an agency or provider."),
    ("short-breaks", "Short breaks and respite", "Time away for the person or their family carer, for a day or longer."),
    ("shared-lives", "Shared Lives", "Support, short breaks or a home with a Shared Lives carer and their family."),
    ("day-activities", "Day opportunities", "Things to do in the day, with others, in the community."),
    ("community-groups", "Community groups and activities", "Clubs, groups and activities run by and for local people, often free."),
    ("sport-fitness", "Sport, fitness and being active", "Exercise, sport, swimming, walking groups, gym access."),
    ("arts-creativity", "Arts, music and creativity", "Art, music, drama, crafts and other creative activities."),
    ("learning", "Learning and skills", "Courses, training and learning new skills."),
    ("work-volunteering", "Work and volunteering", "Help to find, start and keep paid work or volunteering."),
    ("transport", "Transport and getting about", "Getting to places: taxis, travel training, community transport."),
    ("equipment", "Equipment and technology", "Equipment, adaptations and technology that help day to day."),
    ("therapies", "Therapies", "Physiotherapy, occupational therapy, speech and language therapy and others."),
    ("mental-wellbeing", "Mental wellbeing and talking support", "Counselling, talking therapies, wellbeing and peer support."),
    ("carers-support", "Support for family carers", "Training, breaks, emergency back-up and groups for family carers."),
    ("advice-advocacy", "Advice and advocacy", "Independent advice, information and advocacy."),
    ("planning-brokerage", "Support planning and brokerage", "Help to plan support and arrange it."),
    ("money-management", "Managing the money", "Payroll, managed accounts and help with direct payments."),
]


def seed(apps, schema_editor):
    Taxonomy = apps.get_model("marketplace", "Taxonomy")
    Category = apps.get_model("marketplace", "Category")
    taxonomy = Taxonomy.objects.create(
        uuid=TAXONOMY,
        name="Personal health budget support",
        description="Kinds of support people buy or use with a personal health budget.",
        version="1",
    )
    for code, name, description in CATEGORIES:
        Category.objects.create(
            uuid=uuid.uuid5(NAMESPACE, code),
            taxonomy=taxonomy,
            code=code,
            name=name,
            description=description,
        )


def unseed(apps, schema_editor):
    apps.get_model("marketplace", "Category").objects.filter(organisation__isnull=True).delete()
    apps.get_model("marketplace", "Taxonomy").objects.filter(uuid=TAXONOMY).delete()


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
