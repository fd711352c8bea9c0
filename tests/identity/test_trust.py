"""The pieces of identity/trust.py and identity/claims.py that decide what is trusted and what is
stored, without an identity provider: domains, subject keys, kept claims, metadata signatures."""

import importlib

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.apps import apps
from django.core.exceptions import ValidationError
from saml2.sigver import CryptoBackendXmlSec1

from identity import claims, saml, trust
from identity.models import SamlIdentityProvider
from tests import factories
from tests.identity.idp.harness import PERSONNUMMER

pytestmark = pytest.mark.django_db

BROKER_CLAIMS = {
    "sub": "a1b2c3",
    "iss": "https://broker.example.se",
    "acr": "http://id.elegnamnden.se/loa/1.0/loa3",
    "email": "pia@xkommun.example.se",
    "given_name": "Pia",
    "family_name": "Persson",
    "personalIdentityNumber": PERSONNUMMER,
    "birthdate": "1981-12-18",
    "orgAffiliation": f"{PERSONNUMMER}@2120009999",
    "hsa_id": ["SE2321000016-1234", f"SE{PERSONNUMMER}"],
    "address": {"street_address": "Storgatan 1"},
}


def test_domains_are_read_from_text_or_lists_in_lower_case():
    assert trust.parse_domains("Xkommun.se, regionen.se\n@psykiatri.se") == {
        "xkommun.se",
        "regionen.se",
        "psykiatri.se",
    }
    assert trust.parse_domains(["A.se", " "]) == {"a.se"}
    assert trust.parse_domains(None) == set()


def test_a_trust_allows_its_domains_exactly_not_subdomains_or_lookalikes():
    trusted = trust.build_trust(idp="x", email_domains=["xkommun.se"])
    assert trusted.allows_email("Anna@XKOMMUN.se")
    assert not trusted.allows_email("anna@sub.xkommun.se")
    assert not trusted.allows_email("anna@xkommun.se.evil.example")
    assert not trusted.allows_email("")


def test_without_configuration_nothing_is_trusted():
    assert not trust.build_trust(idp="x").allows_email("anna@xkommun.se")


def test_an_organisation_brings_its_registered_domains():
    organization = factories.OrganizationFactory(domains=["Xkommun.se"])
    factories.OrganizationIdentifierFactory(organization=organization, value="2120001111")
    trusted = trust.build_trust(idp="x", organization_identifiers=["2120001111"])
    assert trusted.allows_email("anna@xkommun.se")
    assert trusted.allows_organization(organization)
    assert not trusted.allows_organization(factories.OrganizationFactory())


def test_a_subject_is_kept_as_sent_unless_it_holds_an_identity_number():
    assert trust.subject_key("a1b2c3") == "a1b2c3"
    hashed = trust.subject_key(PERSONNUMMER)
    assert hashed.startswith(trust.HASHED_SUBJECT_PREFIX) and PERSONNUMMER not in hashed
    assert trust.subject_key(PERSONNUMMER) == hashed
    assert trust.subject_key("19811218-9876") != hashed  # a different string: its own key


def test_only_the_needed_claims_are_kept_and_never_an_identity_number():
    kept = claims.stored_claims(BROKER_CLAIMS)
    assert kept == {
        "sub": "a1b2c3",
        "iss": "https://broker.example.se",
        "acr": "http://id.elegnamnden.se/loa/1.0/loa3",
        "email": "pia@xkommun.example.se",
        "given_name": "Pia",
        "family_name": "Persson",
        "orgAffiliation": "@2120009999",
        "hsa_id": ["SE2321000016-1234"],
    }


def test_a_hashed_subject_replaces_sub_in_what_is_kept():
    data = {"id_token": {**BROKER_CLAIMS, "sub": PERSONNUMMER}, "userinfo": {"sub": PERSONNUMMER}}
    kept = claims.stored_oidc_data(data, subject="hmac-sha256:abc")
    assert kept["id_token"]["sub"] == kept["userinfo"]["sub"] == "hmac-sha256:abc"
    assert PERSONNUMMER not in str(kept)


def test_the_migration_reduces_accounts_stored_before(django_user_model):
    migration = importlib.import_module("identity.migrations.0003_store_less_of_oidc_accounts")
    user = factories.UserFactory()
    new_style = SocialAccount.objects.create(
        user=user, provider="kommuna", uid=PERSONNUMMER, extra_data={"id_token": BROKER_CLAIMS}
    )
    old_style = SocialAccount.objects.create(
        user=factories.UserFactory(), provider="kommunb", uid="x1", extra_data=BROKER_CLAIMS
    )
    migration.store_less(apps, None)
    new_style.refresh_from_db()
    old_style.refresh_from_db()
    assert new_style.uid == trust.subject_key(PERSONNUMMER)
    assert new_style.extra_data["id_token"]["sub"] == new_style.uid
    assert old_style.extra_data["email"] == "pia@xkommun.example.se"
    for account in (new_style, old_style):
        assert PERSONNUMMER not in str(account.extra_data)
        assert "personalIdentityNumber" not in str(account.extra_data)


def test_a_signing_certificate_must_be_a_pem_certificate():
    idp = SamlIdentityProvider(
        name="X",
        entity_id="https://x.example.se",
        metadata_url="https://x.example.se/md",
        metadata_signing_certificate="inte ett certifikat",
    )
    with pytest.raises(ValidationError) as refused:
        idp.full_clean()
    assert [error.code for error in refused.value.error_dict["metadata_signing_certificate"]] == [
        "certificate"
    ]


def test_signed_metadata_wrapped_in_an_unsigned_aggregate_is_refused(saml_idp, settings):
    """The signature wrapping attack: a federation's signed entity inside an aggregate the attacker
    made, next to an IdP of their own. xmlsec1 alone accepts it (it checks the first signature it
    finds); the service requires the signature to be the root's own."""
    signed = requests.get(f"{saml_idp.url}/metadata/signed", timeout=10).content
    certificate = saml_idp.certificate_file
    assert saml.metadata_is_signed_by(signed, certificate.read_text())
    body = signed.split(b"?>", 1)[1].strip()
    wrapped = (
        b'<ns0:EntitiesDescriptor xmlns:ns0="urn:oasis:names:tc:SAML:2.0:metadata">'
        b'<ns0:EntityDescriptor entityID="https://evil.example/metadata">'
        b'<ns0:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        b'<ns0:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        b'Location="https://evil.example/sso"/></ns0:IDPSSODescriptor></ns0:EntityDescriptor>'
        + body
        + b"</ns0:EntitiesDescriptor>"
    )
    xmlsec = CryptoBackendXmlSec1(settings.SSO_SAML_XMLSEC_BINARY)
    assert xmlsec.validate_signature(
        wrapped,
        cert_file=str(certificate),
        cert_type="pem",
        node_name=f"{saml.METADATA_NS}:EntityDescriptor",
        node_id=None,
    )
    assert not saml.metadata_is_signed_by(wrapped, certificate.read_text())
    assert not saml.metadata_is_signed_by(b"<not xml", certificate.read_text())
    assert not saml.metadata_is_signed_by(b"<x/>", certificate.read_text())


def test_the_deploy_check_names_identity_providers_that_sign_in_nobody(settings):
    from identity.checks import identity_providers_say_whom_they_sign_in as check

    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {"provider_id": "utan", "settings": {"server_url": "https://a.example.se"}},
                {
                    "provider_id": "med",
                    "settings": {"server_url": "https://b.example.se", "email_domains": ["b.se"]},
                },
            ]
        }
    }
    settings.SSO_SAML_IDP_METADATA = {"local": ["/srv/sambi.xml"]}
    settings.SSO_SAML_IDP_TRUST = {}
    warnings = check(None)
    assert [w.id for w in warnings] == ["identity.W001", "identity.W002"]
    assert "'utan'" in warnings[0].msg
    settings.SSO_SAML_IDP_TRUST = {"https://idp.example.se": {"email_domains": ["b.se"]}}
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"].pop(0)
    assert check(None) == []
