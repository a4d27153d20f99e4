"""notesboard: a realtime sticky-notes board over WebSocket and REST.

The data path, one module per step:
socket in (`ingress`, `rest`) -> validate (`validate`) -> use case (`usecases`) -> single writer
(`writer`) -> store (`store`) -> publish (`publish`, `backplane`) -> fan out (`fanout`, `outbox`, `presence`).
"""

__version__ = "0.1.0"
