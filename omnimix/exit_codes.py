"""Exit codes, in one place, as documented in ``--help``."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success, or nothing to do
    CHANGES_PENDING = 1  # --check found changes that a migration would make
    INPUT_ERROR = 2  # bad usage or bad input (syntax, contract, impossible composition), or a refused write
    INTERNAL_ERROR = 3  # a bug in omnimix; nothing was written


HELP = (
    "Exit codes: 0 success or nothing to do; 1 changes pending (with --check); "
    "2 usage or input error, or a write refused (uncommitted work, a file changed or not writable, "
    "another omnimix holding the lock); 3 internal error (nothing written)."
)
