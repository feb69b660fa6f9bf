"""Synthetic secrets of many kinds (no real credential anywhere), and where to plant them.

``FORMATTED`` are recognisable by their format alone and go into free text (a Linear
issue's description, a note in the trigger). ``KEYED`` have no recognisable format: only
the key they sit under says they are secret, so a copy of them in a Slack text is caught
only by taint. ``PII`` are found when e-mail and phone redaction is configured.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Planted:
    kind: str
    secret: str
    text: str = ""
    """How it appears in free text (defaults to the secret itself)."""

    def line(self) -> str:
        return self.text or self.secret

    def fragments(self) -> list[str]:
        """What must not be found: the secret, and its tail (a partial leak counts too)."""
        tail = self.secret[-14:]
        return [self.secret, tail] if len(self.secret) >= 24 else [self.secret]


_B64 = "Zq8vN3kLm2Pw7Rt5Yx1Bc9DfGh4Jk6Lm8Np0Qr2St4Uv6Wx8Yz0Ab2Cd4Ef6Gh8Ij0Kl2Mn4Op6Qr8St0Uv2W"

FORMATTED: tuple[Planted, ...] = (
    Planted("AWS access key id", "AKIAZ7QX3M5LN2PR8TWE"),
    Planted(
        "AWS secret access key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9Xk3Lm2T",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq9Xk3Lm2T",
    ),
    Planted("Google API key", "AIzaSyD3kq8Vx2mP7nR4tW9yB1cF6hJ0lQ5sZ8e"),
    Planted("Google OAuth token", "ya29.a0AfH6SMBx7Kq2Lm9Np4Rt8Vw3Yz6Bc1Df5Gh"),
    Planted("Google OAuth client secret", "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g"),
    Planted(
        "Azure storage key",
        _B64[:86] + "==",
        f"DefaultEndpointsProtocol=https;AccountName=opsdata;AccountKey={_B64[:86]}==;"
        "EndpointSuffix=core.windows.net",
    ),
    Planted(
        "Azure SAS signature",
        "Xk3Lm2TqP9vR4tW8yB1cF6hJ0lQ5sZ8e%2Bn7%3D",
        "https://opsdata.blob.core.windows.net/c/f.csv?sv=2022-11-02&sp=r"
        "&sig=Xk3Lm2TqP9vR4tW8yB1cF6hJ0lQ5sZ8e%2Bn7%3D",
    ),
    Planted("Azure client secret", "abC8Q~xY2zK9mP4nR7tV1wB5cD3fG6hJ0kL2qS"),
    Planted("Stripe secret key", "sk_live_51HqL9xK2mP7nR4tW9yB1cF6hJ0lQ5sZ8e"),
    Planted("Stripe restricted key", "rk_live_51HqL9xK2mP7nR4tW9yB1cF6hJ0lQ5sZ8eRk"),
    Planted("Stripe webhook secret", "whsec_9Kq2Lm7Np4Rt8Vw3Yz6Bc1Df5Gh0Jk"),
    Planted("OpenAI key", "sk-4Kq2Lm7Np4Rt8Vw3Yz6BT3BlbkFJc1Df5Gh0Jk9Lm"),
    Planted("OpenAI project key", "sk-proj-Zq8vN3kLm2Pw7Rt5Yx1Bc9DfGh4Jk6Lm8Np0Qr2St"),
    Planted("Anthropic key", "sk-ant-api03-Xk3Lm2TqP9vR4tW8yB1cF6hJ0lQ5sZ8en7Wq-AbCdEf"),
    Planted("Slack bot token", "xoxb-2718281828-3141592653589-Zq8vN3kLm2Pw7Rt5Yx1Bc9Df"),
    Planted("Slack user token", "xoxp-2718281828-3141592653-Zq8vN3kLm2Pw7Rt5Yx1Bc9Dx"),
    Planted("Slack app token", "xapp-1-A0123456789-3141592653589-9f8e7d6c5b4a3928"),
    Planted(
        "Slack webhook",
        "T0ABCDEFG/B0HIJKLMN/Wq8vN3kLm2Pw7Rt5Yx1Bc9Df",
        "https://hooks.slack.com/services/T0ABCDEFG/B0HIJKLMN/Wq8vN3kLm2Pw7Rt5Yx1Bc9Df",
    ),
    Planted("GitHub classic token", "ghp_Zq8vN3kLm2Pw7Rt5Yx1Bc9DfGh4Jk6Lm8Np"),
    Planted("GitHub OAuth token", "gho_Xk3Lm2TqP9vR4tW8yB1cF6hJ0lQ5sZ8en7Wq"),
    Planted("GitHub fine-grained token", "github_pat_11ABCDEFG0_Zq8vN3kLm2Pw7Rt5Yx1Bc9DfGh4Jk6L"),
    Planted("GitLab token", "glpat-Zq8vN3kLm2Pw7Rt5Yx1B"),
    Planted(
        "JWT",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcHMtYm90In0.Xk3Lm2TqP9vR4tW8yB1cF6hJ0lQ5sZ8e",
    ),
    Planted(
        "PEM private key",
        "MIIEpAIBAAKCAQEAzq8vN3kLm2Pw7Rt5Yx1Bc9Df",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAzq8vN3kLm2Pw7Rt5Yx1Bc9Df\n"
        "-----END RSA PRIVATE KEY-----",
    ),
    Planted(
        "password in URL",
        "Hx7Kq2Lm9Np",
        "DATABASE_URL=postgresql://ops:Hx7Kq2Lm9Np@db.internal:5432/ops",
    ),
    Planted("Linear API key", "lin_api_Zq8vN3kLm2Pw7Rt5Yx1Bc9DfGh4Jk6L"),
    Planted("Airtable token", "patQx8vN3kLm2Pw7.0123456789abcdef0123456789abcdef0123456789abcdef"),
    Planted("Hugging Face token", "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"),
    Planted("SendGrid key", "SG.Zq8vN3kLm2Pw7Rt5Yx1Bc9.Df4Gh6Jk8Lm0Np2Qr4St6Uv8Wx0Yz2Ab4Cd6"),
    Planted("npm token", "npm_Zq8vN3kLm2Pw7Rt5Yx1Bc9DfGh4Jk6Lm8Np0Q"),
    Planted(
        "bearer header",
        "7hV2kQ9xLm4PzR8sT1wY6bN3cJ5dF0gHa2",
        "Authorization: Bearer 7hV2kQ9xLm4PzR8sT1wY6bN3cJ5dF0gHa2",
    ),
)

PII: tuple[Planted, ...] = (
    Planted("e-mail address", "oncall.pager+ops@example.net"),
    Planted("phone number", "+1 415-555-2671"),
)

KEYED: dict[str, Planted] = {
    "accessToken": Planted("camelCase key", "Vq3Jm8Rk2Wp6Xn1Ts4"),
    "client_secret": Planted("snake_case key", "hT5nLq8Zw3PkVd"),
    "x-api-key": Planted("kebab-case key", "ak-9f8e7d6c5b4a3928"),
    "X-Auth-Token": Planted("header-case key", "Nn4Tp7Wq2Rs9Kx"),
    "DB_PASSWORD": Planted("screaming snake key", "correct-h0rse-battery"),
    "apiKey": Planted("camelCase apiKey", "MzQ2NTc4OTAxMjM0NTY3"),
    "SessionToken": Planted("Pascal case key", "s3ss10n-Wq2Rs9KxNn4"),
}


def free_text() -> str:
    """A Linear description / trigger note carrying every formatted secret and the PII."""
    lines = ["The sync stopped. Config dump from the ops box:"]
    lines += [p.line() for p in (*FORMATTED, *PII)]
    return "\n".join(lines) + "\nThanks!"


def every_planted() -> list[Planted]:
    return [*FORMATTED, *PII, *KEYED.values()]
