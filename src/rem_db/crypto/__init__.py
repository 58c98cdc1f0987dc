"""Encryption at rest (SPEC §10): the password-wrapped key pair (:mod:`.keys`), the value cipher and key
derivation (:mod:`.cipher`) and the open-time decisions (:mod:`.unlock`). docs/encryption.md is the user's
view: what is encrypted, what stays plaintext by design and why.

Nothing here is imported by a plaintext open except :func:`.unlock.unlock`, which imports ``cryptography`` only
when a password is given or the database is encrypted (so `rem` and plain databases start faster)."""
