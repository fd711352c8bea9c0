from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin on a site that refuses sessions without two-step verification
    (``identity.admin_site.AdminSite``). Listed in INSTALLED_APPS instead of django.contrib.admin."""

    default_site = "identity.admin_site.AdminSite"
