"""Django's own form messages, repeated here so that our catalogues decide their wording.

An installed app's catalogue outranks Django's own, and Django REST Framework ships different Swedish
for some of Django's form messages ("Det här fältet är obligatoriskt.", "mejladress"). Messages named
here are extracted into locale/, and LOCALE_PATHS outrank every app: the forms keep Django's wording.
"""

from django.utils.translation import gettext_noop

DJANGO_MESSAGES = [
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid email address."),
    gettext_noop("Enter a valid URL."),
    gettext_noop("The submitted file is empty."),
]
