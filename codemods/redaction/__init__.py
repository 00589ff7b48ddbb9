"""Report hand-rolled redaction of secrets: sanitisers, sensitive-key sets, redaction regexes, call sites."""

from __future__ import annotations

from typing import ClassVar

from codemods.base import Codemod, Example
from codemods.redaction.detect import (
    _KEY_PATTERNS_MODULE,
    KEEP_REASON,
    REPLACEMENT,
    RedactionScan,
)
from omnimix.analysis.context import FileContext
from omnimix.concerns import Concern
from omnimix.findings import Finding


class ReportRedaction(Codemod):
    """Secrets redaction written by hand. MixinSensitiveFieldRedaction does not behave the same: report it."""

    name = "report-redaction"
    concern = Concern.REDACTION
    description = (
        "Reports hand-written redaction of secrets (sanitisers, sensitive-key sets, redaction regexes and where "
        "they are called) and keeps it: MixinSensitiveFieldRedaction over-redacts, works only on top-level keys "
        "and does not scrub strings."
    )
    enabled_by: ClassVar[tuple[str, ...]] = ("advanced_features.security_validation",
                                             "advanced_features.observability")
    keywords: ClassVar[tuple[str, ...]] = ("redact", "saniti", "mask", "scrub", "censor", "obfuscat", "sensitive",
                                           "password", "secret", "token", "api_key", "bearer", "credential")
    examples: ClassVar[tuple[Example, ...]] = (
        Example(
            title="a sanitiser, its regex and its call site are reported and kept",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  security_validation: {sanitize_logs: true}\n",
            before=(
                "import logging\nimport re\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
                "logger = logging.getLogger(__name__)\n"
                "_TOKEN_RE = re.compile(r\"(?i)bearer\\s+\\S+\")\n\n\n"
                "def scrub(text: str) -> str:\n"
                "    return _TOKEN_RE.sub(\"bearer ***\", text)\n\n\n"
                "class NodeCallerEffect(NodeEffect):\n"
                "    async def call(self, error: Exception) -> None:\n"
                "        logger.error(\"call failed: %s\", scrub(str(error)))\n"
            ),
            after=(
                "import logging\nimport re\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
                "logger = logging.getLogger(__name__)\n"
                "_TOKEN_RE = re.compile(r\"(?i)bearer\\s+\\S+\")\n\n\n"
                "def scrub(text: str) -> str:\n"
                "    return _TOKEN_RE.sub(\"bearer ***\", text)\n\n\n"
                "class NodeCallerEffect(NodeEffect):\n"
                "    async def call(self, error: Exception) -> None:\n"
                "        logger.error(\"call failed: %s\", scrub(str(error)))\n"
            ),
        ),
        Example(
            title="an SQL-injection validator is not redaction: nothing to report",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  security_validation: {sanitize_logs: true}\n",
            before=(
                "import re\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
                "_INJECTION = re.compile(r\"(?i)\\bunion\\s+select\\b\")\n\n\n"
                "def sanitize_query(query: str) -> str:\n"
                "    if _INJECTION.search(query):\n"
                "        raise ValueError(\"rejected\")\n"
                "    return query.strip()\n\n\n"
                "class NodeQueryEffect(NodeEffect):\n"
                "    async def run(self, query: str) -> str:\n"
                "        return sanitize_query(query)\n"
            ),
            after=(
                "import re\n\nfrom omnibase_core.nodes import NodeEffect\n\n"
                "_INJECTION = re.compile(r\"(?i)\\bunion\\s+select\\b\")\n\n\n"
                "def sanitize_query(query: str) -> str:\n"
                "    if _INJECTION.search(query):\n"
                "        raise ValueError(\"rejected\")\n"
                "    return query.strip()\n\n\n"
                "class NodeQueryEffect(NodeEffect):\n"
                "    async def run(self, query: str) -> str:\n"
                "        return sanitize_query(query)\n"
            ),
        ),
        Example(
            title="secret-key regexes, the key test and the key normaliser it calls are reported and kept",
            contract="name: n\nnode_type: EFFECT\nadvanced_features:\n  security_validation: {sanitize_logs: true}\n",
            before=_KEY_PATTERNS_MODULE,
            after=_KEY_PATTERNS_MODULE,
        ),
    )

    def detect(self, ctx: FileContext) -> list[Finding]:
        return self.kept_findings(ctx, RedactionScan(ctx).spans.result(), REPLACEMENT, KEEP_REASON)
