"""Reduce what allauth stored with each OpenID Connect account before identity.adapters stored less:
``extra_data`` to the claims the service uses, without identity numbers, and a ``sub`` that is an
identity number to its keyed hash (identity.trust.subject_key)."""

from django.db import migrations


def store_less(apps, schema_editor):
    from identity.claims import stored_claims, stored_oidc_data
    from identity.trust import subject_key

    SocialAccount = apps.get_model("socialaccount", "SocialAccount")
    for account in SocialAccount.objects.iterator():
        uid = subject_key(account.uid)
        data = account.extra_data or {}
        if isinstance(data, dict) and ({"id_token", "userinfo"} & set(data)):
            kept = stored_oidc_data(data, subject=uid)
        else:  # allauth before 65.11 stored the claims themselves
            kept = stored_claims(data if isinstance(data, dict) else {}, subject=uid)
        if kept != data or uid != account.uid:
            account.extra_data, account.uid = kept, uid
            account.save(update_fields=["extra_data", "uid"])


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0002_trust_and_links"),
        ("socialaccount", "0006_alter_socialaccount_extra_data"),
    ]

    operations = [migrations.RunPython(store_less, migrations.RunPython.noop)]
