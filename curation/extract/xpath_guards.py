"""Guards on trafilatura's regex XPath tests: the same elements selected, far fewer Python calls.

trafilatura prunes boilerplate with XPath expressions full of EXSLT ``re:test(@class, '...')``.
lxml implements ``re:test`` as a Python callback, made for every candidate element, also those
without the attribute: about a third of trafilatura's time on the shared crawl's pages. libxml2
evaluates ``and`` lazily, so each ``re:test(A, P)`` on attributes becomes ``((G) and rx:testN(A))``
with a guard ``G``, evaluated in C, that holds whenever the test can:

- ``contains(@a, 'x') or ...`` over each attribute and each of P's required literals, when every
  match of P contains one of at most ``MAX_LITERALS`` literals (case-sensitive P only);
- else ``@a or @b`` (an absent attribute tests the empty string), when P cannot match "";
- no guard otherwise.

``rx:testN`` is ``re:test`` with P compiled once and bound (``_regex_test``): lxml's own decodes
and hashes the pattern text (600 characters for the longest) on every call, and the expression
builds plain strings for the attribute values rather than "smart" ones (every expression here
selects elements, which smart strings do not concern): 15% of what the guards leave.

The guard is implied by the test, so each expression selects the same elements and extraction is
unchanged (``tests/test_extract.py`` compares both on real crawl pages). Each guard is per
attribute because lxml hands ``re:test`` the union's first node in evaluation order, not document
order; ``_regex_test`` takes the same node.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from types import ModuleType

try:
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from lxml.etree import XPath

REGEXP_NS = "http://exslt.org/regular-expressions"
BOUND_NS = "urn:curation:bound-regex-tests"
MAX_LITERALS = 12
"""More ``contains`` calls than this cost more than the callback they save (measured on the crawl)."""
_TEST = re.compile(r"re:test\(\s*(@[\w-]+(?:\s*\|\s*@[\w-]+)*)\s*,\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)")


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings one of which every match of ``pattern`` contains (the fewest found), or None."""
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        return None
    return _required(list(parsed))


def _required(items: list) -> frozenset[str] | None:
    """For a concatenation: the best of its literal runs, groups and alternations (each required)."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            candidates.append(frozenset(["".join(run)]))
            run = []
        if op is sre_constants.SUBPATTERN and not av[1] & re.IGNORECASE:  # (group, add_flags, del_flags, p)
            found = _required(list(av[3]))
        elif op is sre_constants.BRANCH:
            alternatives = [_required(list(a)) for a in av[1]]
            found = None if None in alternatives else frozenset().union(*alternatives)
        else:
            continue  # repeats, classes, anchors, lookarounds: end a run, require nothing
        if found:
            candidates.append(found)
    return min(candidates, key=lambda c: (len(c), -min(map(len, c))), default=None)


def _xpath_string(text: str) -> str | None:
    if "'" not in text:
        return f"'{text}'"
    return f'"{text}"' if '"' not in text else None


def _regex_test(pattern: str, ignore_case: bool) -> Callable[[object, list[str]], bool]:
    """lxml's ``re:test(nodes, pattern[, 'i'])`` on a node-set of attributes: ``pattern`` searched in
    the value of its first node ('' when it is empty), compiled once."""
    search = re.compile(pattern, re.UNICODE | (re.IGNORECASE if ignore_case else 0)).search

    def test(_context: object, nodes: list[str]) -> bool:
        return search(nodes[0] if nodes else "") is not None

    return test


def _guard(attributes: list[str], pattern: str, flags: str) -> str | None:
    """A C-evaluated condition that holds whenever ``re:test(attributes, pattern, flags)`` can."""
    literals = None if "i" in flags else required_literals(pattern)
    quoted = [_xpath_string(x) for x in sorted(literals or ())]
    if literals and None not in quoted and len(quoted) * len(attributes) <= MAX_LITERALS:
        return " or ".join(f"contains({a}, {q})" for a in attributes for q in quoted)
    if re.search(pattern, "", re.IGNORECASE if "i" in flags else 0) is None:
        return " or ".join(attributes)
    return None


def guarded_xpath(path: str) -> XPath | None:
    """``path`` compiled with each ``re:test`` on attributes guarded and bound, or None when it has none."""
    tests: dict[tuple[str, str], Callable] = {}

    def rewrite(match: re.Match) -> str:
        attributes = [a.strip() for a in match.group(1).split("|")]
        pattern, flags = match.group(2), match.group(3) or ""
        name = f"test{len(tests)}"
        tests[(BOUND_NS, name)] = _regex_test(pattern, "i" in flags)
        call = f"rx:{name}({match.group(1)})"
        guard = _guard(attributes, pattern, flags)
        return call if guard is None else f"(({guard}) and {call})"

    new = _TEST.sub(rewrite, path)
    if not tests:
        return None
    return XPath(new, namespaces={"re": REGEXP_NS, "rx": BOUND_NS}, extensions=tests, smart_strings=False)


def install(package: str = "trafilatura") -> int:
    """Swap the package's module-level XPath objects (and lists of them) for guarded ones, in place;
    returns how many were rebuilt. Idempotent."""
    swapped: dict[int, tuple[XPath, XPath]] = {}  # id -> (original, replacement): both kept alive

    def swap(x: XPath) -> XPath:
        if id(x) not in swapped:
            swapped[id(x)] = (x, guarded_xpath(x.path) or x)
        return swapped[id(x)][1]

    modules: list[ModuleType] = [m for n, m in list(sys.modules.items()) if n.split(".")[0] == package and m]
    for module in modules:
        for name, value in list(vars(module).items()):
            if isinstance(value, XPath):
                setattr(module, name, swap(value))
            elif isinstance(value, list) and value and all(isinstance(x, XPath) for x in value):
                value[:] = [swap(x) for x in value]
    return sum(1 for original, new in swapped.values() if new is not original)
