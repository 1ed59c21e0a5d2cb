"""Identity mechanisms: password hashing (argon2), JWT signing keys and tokens (joserfc),
an external OpenID Connect issuer's keys."""
