"""The domain: the note rules (`domain`), the use cases shared by REST and the socket (`usecases`), access
tokens (`auth`) and board export/import (`exchange`). No transport, no SQL.
"""
