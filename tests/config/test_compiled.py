"""Reads compiled once per process (config/compiled.py) and the per-request reads made with them: the
session, the signed-in user and their memberships give what the ORM gives, for every value."""

import datetime

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.compiled import CompiledRead
from config.sessions import SessionStore
from councils.models import CouncilMembership, User
from deviations import selectors
from identity.backends import LocalPasswordBackend
from identity.saml import SamlBackend
from tests.factories import CouncilFactory, CouncilMembershipFactory, RegionalCouncilFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_compiled_read_gives_the_querysets_rows_for_each_value():
    users = UserFactory.create_batch(3)
    read = CompiledRead(
        User, lambda pk, name: User.objects.filter(pk=pk, username=name).values_list("pk", "email"), int, str
    )
    for user in users:
        assert read.read(user.pk, user.username) == list(
            User.objects.filter(pk=user.pk, username=user.username).values_list("pk", "email")
        )
    assert read.read(users[0].pk, users[1].username) == []


def test_a_value_used_twice_takes_both_places():
    first, second = UserFactory.create_batch(2)
    twice = CompiledRead(User, lambda pk: User.objects.filter(pk=pk, id__gte=pk).values_list("pk"), int)
    assert twice.read(first.pk) == [(first.pk,)]
    assert twice.read(second.pk) == [(second.pk,)]


def test_a_compiled_read_refuses_a_value_the_lookup_transforms():
    # A LIKE pattern made of the value: the placeholder is not among the parameters.
    transformed = CompiledRead(User, lambda name: User.objects.filter(username__startswith=name), str)
    with pytest.raises(ValueError, match="not one of the parameters"):
        transformed.read("a")


def test_instances_are_the_orms_with_their_related_rows_and_annotations():
    from django.db.models import Value

    council = CouncilFactory(name="Väst")
    memberships = [CouncilMembershipFactory(council=council) for _ in range(3)]
    read = CompiledRead(
        CouncilMembership,
        lambda council_id: (
            CouncilMembership.objects.filter(council_id=council_id)
            .select_related("user", "council")
            .annotate(marker=Value("x"))
            .order_by("-pk")
        ),
        int,
    )

    loaded = read.instances(council.pk)

    assert [m.pk for m in loaded] == [m.pk for m in reversed(memberships)]
    for membership in loaded:
        assert not membership._state.adding and membership.marker == "x"
        assert "user" in membership._state.fields_cache and "council" in membership._state.fields_cache
        assert membership.user.username == CouncilMembership.objects.get(pk=membership.pk).user.username
        assert membership.council.name == "Väst"
    assert read.instances(council.pk + 1000) == []


def test_memberships_are_those_of_active_councils_in_the_order_of_their_names():
    user = UserFactory()
    member, coordinator = CouncilMembership.Role.MEMBER, CouncilMembership.Role.COORDINATOR
    CouncilMembershipFactory(user=user, council=CouncilFactory(name="Öst"), role=member)
    CouncilMembershipFactory(user=user, council=CouncilFactory(name="Väst"), role=coordinator)
    CouncilMembershipFactory(user=user, council=CouncilFactory(name="Avvecklat", active=False), role=member)
    CouncilMembershipFactory(user=user, council=RegionalCouncilFactory(name="Regionala"), role=member)
    CouncilMembershipFactory(user=UserFactory(), council=CouncilFactory(name="Annat"))

    memberships = selectors.active_memberships(User.objects.get(pk=user.pk))

    assert [(m.council_name, m.regional, m.role) for m in memberships] == [
        ("Regionala", True, CouncilMembership.Role.MEMBER),
        ("Väst", False, CouncilMembership.Role.COORDINATOR),
        ("Öst", False, CouncilMembership.Role.MEMBER),
    ]
    assert selectors.active_memberships(User.objects.get(pk=UserFactory().pk)) == ()


@pytest.mark.parametrize("backend_class", [LocalPasswordBackend, SamlBackend])
def test_the_session_user_is_the_orms_user_and_an_inactive_or_missing_one_is_none(backend_class):
    user = UserFactory(first_name="Åsa", last_name="Berg", organization=None)
    backend = backend_class()

    loaded = backend.get_user(user.pk)
    expected = ModelBackend().get_user(user.pk)

    assert type(loaded) is User and loaded.pk == user.pk and not loaded._state.adding
    assert loaded._state.db == expected._state.db
    assert {f.attname: getattr(loaded, f.attname) for f in User._meta.concrete_fields} == {
        f.attname: getattr(expected, f.attname) for f in User._meta.concrete_fields
    }
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None
    assert backend.get_user(user.pk + 1000) is None


def test_the_session_store_reads_what_djangos_store_wrote_and_not_an_expired_session():
    written = DjangoSessionStore()
    written["answer"] = 42
    written.save()

    store = SessionStore(written.session_key)
    assert store.load() == {"answer": 42}
    assert store.session_key == written.session_key

    Session.objects.filter(session_key=written.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = SessionStore(written.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    assert SessionStore("no-such-session-key-at-all").load() == {}


def test_a_signed_in_session_reaches_a_page_and_a_signed_out_one_does_not(client, settings):
    assert settings.SESSION_ENGINE == "config.sessions"
    user = UserFactory()
    client.force_login(user)
    assert client.get("/konto/profil/").status_code == 200
    client.post("/konto/logga-ut/")
    assert client.get("/konto/profil/").status_code == 302


def test_a_list_is_compiled_per_length_and_an_empty_one_reads_nothing(django_assert_num_queries):
    users = UserFactory.create_batch(3)
    ids = [u.pk for u in users]
    read = CompiledRead(
        User, lambda pks: User.objects.filter(pk__in=pks).order_by("pk").values_list("pk"), list
    )
    assert read.read(ids[:1]) == [(ids[0],)]
    assert read.read(ids) == [(pk,) for pk in ids]
    assert read.read(ids[1:]) == [(pk,) for pk in ids[1:]]
    with django_assert_num_queries(0):
        assert read.read([]) == []
        assert CompiledRead(User, lambda pks: User.objects.filter(pk__in=pks), list).instances([]) == []


def test_dates_and_uuids_are_values_too():
    """A date (a DateField's lookup) and a UUID (a UUIDField's) take their placeholders' places."""
    import uuid

    from deviations.models import Deviation
    from tests.factories import DeviationFactory

    key = uuid.uuid4()
    report = DeviationFactory(idempotency_key=key, occurred_on=datetime.date(2026, 3, 4))
    read = CompiledRead(
        Deviation,
        lambda key, day: Deviation.objects.filter(idempotency_key=key, occurred_on=day).values_list("pk"),
        uuid.UUID,
        datetime.date,
    )
    assert read.read(key, datetime.date(2026, 3, 4)) == [(report.pk,)]
    assert read.read(key, datetime.date(2026, 3, 5)) == []
    assert read.read(uuid.uuid4(), datetime.date(2026, 3, 4)) == []
