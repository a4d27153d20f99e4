"""Socket in: the handshake (`endpoint`), one connection's state machine (`connection`), the registry of
open sockets (`registry`) and the per-connection rate limit (`ratelimit`)."""
