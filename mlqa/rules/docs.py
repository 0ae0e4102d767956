"""``mlqa rule``: print a rule's documentation, or list every rule.

``mlqa rule MLQ101`` (or ``mlqa rule hardcoded-hyperparameter``) prints the
rule's docs; ``mlqa rule`` lists all codes with their names and summaries;
``mlqa rule --write docs/rules`` renders one markdown file per rule, named by
what it flags.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mlqa.files import write_atomic
from mlqa.rules.registry import Rule, all_rules


def render(rule: Rule) -> str:
    """Render one rule's documentation as markdown.

    Args:
        rule: The rule.

    Returns:
        The page: a title with code and name, the summary, then the sections.
    """
    return f"# {rule.name} ({rule.code})\n\n{rule.summary}\n\n{rule.doc.strip()}\n"


def listing() -> str:
    """List every rule, one per line.

    Returns:
        ``CODE  name  summary`` lines.
    """
    rules = all_rules().values()
    width = max(len(rule.name) for rule in rules)
    return "".join(f"{r.code}  {r.name:<{width}}  {r.summary}\n" for r in rules)


def write(directory: Path) -> list[Path]:
    """Write ``<name>.md`` for every rule, atomically, only when it changed.

    Args:
        directory: Where to write.

    Returns:
        The files written.

    Raises:
        InputError: If a file cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rule in all_rules().values():
        target = directory / f"{rule.name}.md"
        text = render(rule)
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        write_atomic(target, text.encode("utf-8"))
        written.append(target)
    return written


def find(key: str) -> Rule | None:
    """Find a rule by code (any case) or name.

    Args:
        key: ``MLQ101`` or ``hardcoded-hyperparameter``.

    Returns:
        The rule, or None.
    """
    rules = all_rules()
    found = rules.get(key.strip().upper())
    if found is None:
        found = next((r for r in rules.values() if r.name == key.strip().lower()), None)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlqa rule``.

    Args:
        argv: The arguments after ``mlqa rule``; ``sys.argv[2:]`` if None.

    Returns:
        0 on success, 2 for an unknown code or a usage error.
    """
    parser = argparse.ArgumentParser(
        prog="mlqa rule",
        description="Print the documentation of an mlqa rule, or list them all.",
    )
    parser.add_argument(
        "codes", nargs="*", metavar="CODE", help="a code (MLQ101) or rule name"
    )
    parser.add_argument(
        "--write", metavar="DIR", help="render docs/rules/<name>.md files into DIR"
    )
    try:
        args = parser.parse_args(sys.argv[2:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else 2
    if args.write:
        for path in write(Path(args.write)):
            print(f"wrote {path}")
        return 0
    if not args.codes:
        sys.stdout.write(listing())
        return 0
    pages = []
    for key in args.codes:
        rule = find(key)
        if rule is None:
            known = ", ".join(all_rules())
            print(f"mlqa rule: unknown rule {key!r} (known: {known})", file=sys.stderr)
            return 2
        pages.append(render(rule))
    sys.stdout.write("\n".join(pages))
    return 0
