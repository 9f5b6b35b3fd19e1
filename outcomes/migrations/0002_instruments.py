from django.db import migrations


def load(apps, schema_editor):
    from outcomes.instruments import seed_instruments

    seed_instruments(
        apps.get_model("outcomes", "Instrument"),
        apps.get_model("outcomes", "Question"),
        apps.get_model("outcomes", "QuestionOption"),
    )


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
