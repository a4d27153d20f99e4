"""Storage: the database behind one package (schema, per-dialect SQL, driver connections, the store)."""
