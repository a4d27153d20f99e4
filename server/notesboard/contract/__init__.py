"""The wire contract: frames, commands, errors and their validation, and the published API descriptions.

Pure: no I/O. `model` holds the types that cross layers; `validate` turns raw frames and bodies into them;
`protocol` encodes the frames the server sends; `errors` carries the contract's codes; `api_models`, `openapi`
and `asyncapi` describe the REST API and the socket for tools.
"""
