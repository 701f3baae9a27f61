"""The notification ledger (STATE_URL): what was notified, open episodes, windows checked.

`document` is the versioned JSON, `store` the backends' common part and the claim that
keeps overlapping invocations from sending twice, `oss` and `oss_signing` the OSS backend,
`settings` reads STATE_URL, `session` runs one check's read-claim-write cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # reading STATE_URL (ledger.settings) loads no store
    from shipper_alert.ledger.settings import LedgerSettings
    from shipper_alert.ledger.store import Store
    from shipper_alert.sls.credentials import Credentials


def open_store(
    settings: LedgerSettings, credentials: Credentials, clock: Callable[[], float]
) -> Store:
    if settings.folder is not None:
        from shipper_alert.ledger.store import FileStore  # noqa: PLC0415

        return FileStore(settings.folder)
    from shipper_alert.ledger.oss import OssStore  # noqa: PLC0415 - requests loads on use

    assert settings.bucket
    assert settings.endpoint
    assert settings.region
    return OssStore(
        settings.bucket, settings.prefix, settings.endpoint, settings.region, credentials, clock
    )
