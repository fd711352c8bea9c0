"""The language switch goes to the same page in the other language, both ways."""

import pytest


@pytest.mark.parametrize(
    ("page", "language", "expected"),
    [
        ("/konto/logga-in/?next=/samrad/", "en", "/en/konto/logga-in/?next=/samrad/"),
        ("/en/konto/logga-in/?next=/samrad/", "sv", "/konto/logga-in/?next=/samrad/"),
        ("/en/", "sv", "/"),
    ],
)
def test_language_switch_leads_to_the_same_page_in_the_other_language(db, client, page, language, expected):
    # db: the login page lists the identity providers configured in the admin.
    response = client.get(page)
    assert f'name="next" type="hidden" value="{expected}"' in response.text

    response = client.post("/i18n/setlang/", {"language": language, "next": expected})
    assert response.status_code == 302
    assert response.url == expected
