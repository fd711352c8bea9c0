"""The feedback e-mail takes every reporter, with or without an account, to the private status page."""

import pytest

from deviations import notifications
from deviations.tokens import read_status_token
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("with_account", [False, True])
def test_feedback_mail_links_to_the_status_page(mailoutbox, django_capture_on_commit_callbacks, with_account):
    reporter = factories.UserFactory(email="anna@org.example.se") if with_account else None
    deviation = factories.DeviationFactory(reporter=reporter, reporter_email="rapportor@org.example.se")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.feedback_given(deviation=deviation)
    (mail,) = mailoutbox
    assert mail.to == ["rapportor@org.example.se"]
    link = next(line for line in mail.body.splitlines() if "/status/" in line).split()[-1]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert read_status_token(token) == (deviation.idempotency_key, 0)
    assert deviation.description not in mail.body
