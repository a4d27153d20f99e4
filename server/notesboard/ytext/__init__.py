"""Note text as a CRDT: each note's text is a Yjs document (one Y.Text named "text"), edited over the
y-websocket protocol at `/y/{board}/{note_id}` and committed through the writer like every change.

`varint`/`wire` (the protocol's bytes), `doc` (the document: build, apply, diff), `merge` (inside the write
transaction), `room` (one note's editors on this process), `endpoint` (the socket)."""
