"""Wire types: REST bodies and responses (msgspec Structs)."""
