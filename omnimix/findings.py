"""A finding: one hand-rolled instance of a concern, located in a file."""

from dataclasses import asdict, dataclass

from omnimix.concerns import Action, Concern, Safety


@dataclass(frozen=True, order=True)
class Finding:
    """One hand-rolled instance of a concern, with what a migration would do about it.

    Lines are 1-based and inclusive. ``symbol`` is the dotted name of the innermost enclosing
    class or function, or ``<module>``.
    """

    start_line: int
    end_line: int
    concern: Concern
    symbol: str
    action: Action
    safety: Safety
    replacement: str
    reason: str
    detector: str = ""

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["concern"] = str(self.concern)
        data["action"] = str(self.action)
        data["safety"] = str(self.safety)
        return {key: data[key] for key in _JSON_ORDER}

    @property
    def line_count(self) -> int:
        return self.end_line - self.start_line + 1


_JSON_ORDER = (
    "concern",
    "symbol",
    "start_line",
    "end_line",
    "action",
    "safety",
    "replacement",
    "reason",
    "detector",
)
