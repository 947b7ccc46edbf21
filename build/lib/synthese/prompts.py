"""Versioned prompt files (prompts/<name>.v<N>.md).

A prompt file has a front matter, then blocks headed ``### system``, ``### user`` and
``### assistant``. The last ``user`` block is the template of the real request; the
blocks before it are few-shot examples. Released files are never edited: a change is a
new version, so its hash (part of every cache key) changes too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

_BLOCK = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)
_META = re.compile(r"^(\w+): (.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str
    sha256: str
    messages: tuple[tuple[str, str], ...]  # (role, content), the last one a template
    meta: tuple[tuple[str, str], ...] = ()  # the front matter's one-line "key: value" entries

    def option(self, key: str, default: str | None = None) -> str | None:
        """A front-matter value (e.g. ``fields`` of extract_arguments), or ``default``."""
        return dict(self.meta).get(key, default)

    @property
    def label(self) -> str:
        return f"{self.name}.v{self.version}"

    @property
    def examples(self) -> list[tuple[str, str]]:
        return list(self.messages[1:-1]) if self.messages[0][0] == "system" else list(self.messages[:-1])

    def render(self, **values: object) -> list[dict[str, str]]:
        """Chat messages with the template's ``{{name}}`` placeholders filled in."""
        out = [{"role": role, "content": content} for role, content in self.messages[:-1]]
        template = self.messages[-1][1]
        for key, value in values.items():
            template = template.replace("{{" + key + "}}", str(value))
        out.append({"role": "user", "content": template})
        return out

    @cached_property
    def _template(self) -> re.Pattern[str]:
        pieces = re.split(r"\{\{\w+\}\}", self.messages[-1][1])
        return re.compile("(?s)" + ".*".join(re.escape(p) for p in pieces))

    def rendered(self, messages: list[dict[str, str]]) -> bool:
        """Whether ``messages`` are this prompt's, filled in by ``render``."""
        fixed = [{"role": role, "content": content} for role, content in self.messages[:-1]]
        return (
            len(messages) == len(self.messages)
            and messages[:-1] == fixed
            and messages[-1].get("role") == "user"
            and self._template.fullmatch(messages[-1].get("content", "")) is not None
        )


def load_prompt(name: str, version: int = 1) -> Prompt:
    text = resources.files("synthese").joinpath(f"prompts/{name}.v{version}.md").read_text("utf-8")
    return parse_prompt(name, version, text)


def parse_prompt(name: str, version: int, text: str) -> Prompt:
    """A Prompt from the text of a prompt file (front matter optional)."""
    head, body = text.split("\n---\n", 1) if text.startswith("---") else ("", text)
    meta = tuple((m.group(1), m.group(2).strip()) for m in _META.finditer(head))
    parts = _BLOCK.split(body)
    messages = tuple(
        (parts[i], parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)
    )
    if not messages or messages[-1][0] != "user":
        raise ValueError(f"prompt {name}.v{version} must end with a user block")
    return Prompt(name, version, text, hashlib.sha256(text.encode()).hexdigest(), messages, meta)
