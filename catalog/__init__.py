"""YAML data of the omnimix mixin catalog: what omnimix knows about omnibase-core."""

from pathlib import Path

CATALOG_DIR = Path(__file__).parent
