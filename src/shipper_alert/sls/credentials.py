"""The access key (and STS token) that signs SLS requests.

From the FC context (`context.credentials`, python3.9/3.10) or, when the context carries
none (python3.12, local runs), from ALIBABA_CLOUD_* variables
(https://help.aliyun.com/en/functioncompute/fc/context-1).
STS keys are temporary, so a client is built per invocation with the current ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shipper_alert.redact import Secret, SecretScrubber


@dataclass(frozen=True)
class Credentials:
    # The key id is not a secret by itself, but the contract lists access keys among what
    # never appears in a log: keep it out of repr and scrub it from log records.
    access_key_id: str = field(repr=False)
    access_key_secret: Secret = field(repr=False)
    security_token: Secret | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        SecretScrubber.register(self.access_key_id)
