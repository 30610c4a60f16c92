"""Read a page and a Content-Security-Policy as a browser does, for the XSS checker.

Substring tests are what let weak answers through: ``"script-src" in policy`` is true for
``script-src-attr 'none'`` (which leaves ``<script>`` elements alone) and for a ``report-uri``
path; ``"<script" in page`` misses ``<img onerror=...>`` and an attribute that a quote broke out
of. So the page is parsed into its tags and attributes (`page_shape`), and the policy into
directives (`script_policy_problem`), following the CSP 3 rules:

- directives are separated by ``;``, a directive's name is its first token (case-insensitive),
  and a repeated directive is ignored; a header may hold several policies separated by ``,``,
  and the page obeys all of them (a script runs only if every policy allows it);
- inline ``<script>`` elements are governed by ``script-src-elem``, falling back to
  ``script-src`` then ``default-src``; event-handler attributes (``onerror=``) by
  ``script-src-attr``, with the same fallbacks; no directive at all means no restriction;
- a source list lets an injected script run if it holds ``*`` (or a ``scheme://*`` host), a scheme
  source such as ``https:`` or ``data:`` (the attacker's own ``<script src>``), or
  ``'unsafe-inline'`` — unless a nonce or hash is present, which makes browsers ignore
  ``'unsafe-inline'`` (and, with ``'strict-dynamic'``, the host and scheme sources too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["PageShape", "page_shape", "parse_policy", "script_policy_problem"]

_SCHEME_SOURCE = re.compile(r"^[a-z][a-z0-9+.\-]*:$")
_ANY_HOST = re.compile(r"^([a-z][a-z0-9+.\-]*://)?\*(:[0-9*]+)?(/.*)?$")  # *, https://*, *:443 ...
_NONCE_OR_HASH = re.compile(r"^'(nonce-|sha256-|sha384-|sha512-)")


@dataclass
class PageShape:
    """A page as the browser builds it: its tags with their attributes, and its text (entities decoded)."""

    tags: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    @property
    def skeleton(self) -> list[tuple[str, tuple[str, ...]]]:
        """Tag names and attribute names only: what an injection changes, whatever the values."""
        return [(tag, tuple(name for name, _ in attrs)) for tag, attrs in self.tags]

    def attribute_values(self) -> list[str]:
        return [value for _, attrs in self.tags for _, value in attrs]


class _ShapeParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.shape = PageShape()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.shape.tags.append((tag, [(name, value or "") for name, value in attrs]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.shape.tags.append(("!--", []))

    def handle_data(self, data: str) -> None:
        self.shape.text.append(data)


def page_shape(page: str) -> PageShape:
    """Parse `page` (HTML) into its tags, attributes and text, entities decoded as a browser does."""
    parser = _ShapeParser()
    parser.feed(page)
    parser.close()
    return parser.shape


def parse_policy(policy: str) -> dict[str, list[str]]:
    """One policy (no commas) as {directive name: its tokens}; the first of a repeated directive wins."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), [token.lower() for token in tokens[1:]])
    return directives


def _effective(directives: dict[str, list[str]], specific: str) -> tuple[str, list[str]] | None:
    for name in (specific, "script-src", "default-src"):
        if name in directives:
            return name, directives[name]
    return None


def _source_list_problem(name: str, sources: list[str]) -> str | None:
    strict = any(_NONCE_OR_HASH.match(source) for source in sources)
    dynamic = strict and "'strict-dynamic'" in sources
    if "'unsafe-inline'" in sources and not strict:
        return f"{name} allows 'unsafe-inline': an injected <script> or onerror= runs"
    if dynamic:  # host and scheme sources are ignored
        return None
    for source in sources:
        if _ANY_HOST.match(source):
            return f"{name} allows {source}: a script from any host, the attacker's included, runs"
        if _SCHEME_SOURCE.match(source):
            return f"{name} allows the scheme source {source} — any {source} URL, the attacker's own script included"
    return None


def _policy_problem(policy: str) -> str | None:
    directives = parse_policy(policy)
    for specific in ("script-src-elem", "script-src-attr"):
        effective = _effective(directives, specific)
        if effective is None:
            return "it has neither script-src nor default-src, so it does not restrict scripts at all"
        problem = _source_list_problem(*effective)
        if problem:
            return problem
    return None


def script_policy_problem(headers: list[str]) -> str | None:
    """Why the Content-Security-Policy header values `headers` still let an injected script run, or None.

    The page obeys every policy it is given, so one strict policy is enough.
    """
    policies = [policy for header in headers for policy in header.split(",") if policy.strip()]
    if not policies:
        return "there is no Content-Security-Policy header"
    problems = [_policy_problem(policy) for policy in policies]
    if any(problem is None for problem in problems):
        return None
    return problems[0]
