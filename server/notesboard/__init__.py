"""notesboard: a realtime sticky-notes board over WebSocket and REST.

The data path, one module per step:
socket in (`ingress`, `rest`) -> validate (`validate`) -> use case (`usecases`) -> single writer
(`writer`) -> decide (`domain`) and store (`storage`) -> publish (`publish`, `backplane`) -> fan out (`fanout`,
`outbox`, `presence`). `model` holds the types these share; `runtime` builds and opens the services.
"""

__version__ = "0.1.0"
