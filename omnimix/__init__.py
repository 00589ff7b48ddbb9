"""omnimix: migrate hand-written ONEX node code to omnibase-core mixins and built-ins, in place."""

__version__ = "0.1.0"

#: The omnibase-core release every line omnimix emits is written and verified against.
OMNIBASE_CORE_VERSION = "0.47.57"
