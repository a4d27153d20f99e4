"""Brokers under the multi-process backplane: in-process (`memory`), Redis pub/sub (`redis`), PostgreSQL
LISTEN/NOTIFY (`postgres`). A driver is imported only when its scheme is used.
"""
