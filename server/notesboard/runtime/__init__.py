"""One server process: settings (`config`), the services built and opened in order (`assembly`), the ASGI app
(`app`), uvicorn with a graceful shutdown (`server`), several processes (`workers`), `/metrics` (`metrics`), and
the only code that touches uvicorn's internals (`uvicorn_adapter`).
"""
