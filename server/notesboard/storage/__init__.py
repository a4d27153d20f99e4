"""Storage, behind one package: `schema` (tables, creation, migration), `sql` (the hot paths' SQL per
dialect), `driver` (driver connections through `databases`' public API) and `store` (`Store`)."""

from notesboard.storage.store import Store

__all__ = ["Store"]
