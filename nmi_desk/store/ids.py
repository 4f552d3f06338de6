"""Record ids made on the device. Apart from store/models.py so the migrations (run at every
open) get them without building the model classes."""

import uuid


def new_uuid() -> str:
    return str(uuid.uuid4())
