"""Secrets and e-mail addresses never leave for a model provider; names stay quotable."""

from __future__ import annotations

import pytest

from domain.incidents.logs import LogExcerpt
from domain.incidents.redaction import RedactionRule, Redactor
from tests.unit.incidents.builders import container, package, pod

REDACT = Redactor()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcDEF123456789xyz", "abcDEF123456789xyz"),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        ),
        ("aws key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("connecting to postgres://app:Sup3rS3cret@db:5432/app", "Sup3rS3cret"),
        ("login failed password=hunter22 user=bob", "hunter22"),
        ('{"client_secret": "a1b2c3d4e5f6"}', "a1b2c3d4e5f6"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
        ("STRIPE_API_KEY=sk_live_51Habcdefghijklmnopqrs", "sk_live_51Habcdefghijklmnopqrs"),
        ("key Zx9Qm2Lp8Rt4Vb7Nc1Kd6Fh3Jg5Ws0Ye", "Zx9Qm2Lp8Rt4Vb7Nc1Kd6Fh3Jg5Ws0Ye"),
        ("mail sent to jane.doe@example.com", "jane.doe@example.com"),
    ],
)
def test_secrets_and_emails_are_redacted(text: str, secret: str) -> None:
    redacted = REDACT.redact(text)
    assert secret not in redacted
    assert "[REDACTED:" in redacted


@pytest.mark.parametrize(
    "text",
    [
        'Error: secret "db-credentials" not found',
        "secretKeyRef name=db-credentials",
        "postgresql://inventory_app@inventory-db.retail.svc.cluster.local:5432/inventory",
        "image@sha256:f34a73091677d52226666d796eee58347f4dc2e0ccf52d71d53b46293d6045e1",
        "failed to fetch anonymous token: unexpected status: 401 Unauthorized",
        "lastState.terminated.reason=OOMKilled exitCode=137",
    ],
)
def test_evidence_the_analyzer_quotes_is_left_alone(text: str) -> None:
    assert REDACT.redact(text) == text


def test_rules_are_configurable() -> None:
    without_email = REDACT.without("email")
    assert without_email.redact("ops@example.com") == "ops@example.com"
    custom = REDACT.with_rules(RedactionRule(name="ticket", pattern=r"TICKET-\d+"))
    assert custom.redact("see TICKET-4711") == "see [REDACTED:ticket]"


def test_a_whole_evidence_package_is_redacted_field_by_field() -> None:
    leaky = container(log=LogExcerpt(text="DB_PASSWORD=hunter22\n", total_bytes=21))
    cleaned = REDACT.redact_struct(package(pod("app-1", leaky)))
    assert cleaned.pods[0].containers[0].log is not None
    assert "hunter22" not in cleaned.pods[0].containers[0].log.text
    assert cleaned.pods[0].name == "app-1"
