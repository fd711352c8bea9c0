"""E-mail task rows queued before mails became references hold the full body and the recipients'
addresses (``send_email(subject=…, body=…, to=…)``). Delete them: sent ones are kept nowhere else, and
the worker could not run unsent ones any more. Drain the queue (stop the web processes, let the worker
finish) before deploying this if no mail may be lost."""

from django.db import migrations


def delete_tasks_with_bodies(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    DBTaskResult.objects.filter(
        task_path="deviations.tasks.send_email", args_kwargs__kwargs__has_key="body"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("deviations", "0010_ratelimit_cache_table"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(delete_tasks_with_bodies, migrations.RunPython.noop)]
