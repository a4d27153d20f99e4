"""Publish and fan out: committed changes become frames (`publish`), each board's hub (`hub`) hands them to its
connections' bounded outboxes (`outbox`), and presence (`presence`) is coalesced per board.
"""
