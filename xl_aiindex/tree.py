"""The indicator tree: structure, checks and the order nodes are computed in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .errors import Problem
from .i18n import _
from .model import RESERVED_IDS, Node

#: Ids are safe as DataFrame columns, Excel names and sheet-name suffixes: ASCII, no spaces.
_ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class IndicatorTree:
    """A checked tree of :class:`Node` (build it with :func:`build_tree`).

    >>> t = IndicatorTree((Node("index", None), Node("a", "index", weight=1.0)))
    >>> t.root.id, t.leaves
    ('index', ('a',))
    """

    nodes: tuple[Node, ...]

    @cached_property
    def by_id(self) -> dict[str, Node]:
        """Nodes by id."""
        return {n.id: n for n in self.nodes}

    @cached_property
    def root(self) -> Node:
        """The one node without a parent."""
        return next(n for n in self.nodes if n.parent is None)

    @cached_property
    def children(self) -> dict[str, tuple[str, ...]]:
        """Child ids of every node, in Framework order (leaves map to ``()``)."""
        kids: dict[str, list[str]] = {n.id: [] for n in self.nodes}
        for n in self.nodes:
            if n.parent is not None:
                kids[n.parent].append(n.id)
        return {k: tuple(v) for k, v in kids.items()}

    @cached_property
    def leaves(self) -> tuple[str, ...]:
        """Indicator ids, in Framework order."""
        return tuple(n.id for n in self.nodes if not self.children[n.id])

    @cached_property
    def inner(self) -> tuple[str, ...]:
        """Inner node ids, children before parents (the order aggregation needs)."""
        return tuple(n for n in self.post_order if self.children[n])

    @cached_property
    def post_order(self) -> tuple[str, ...]:
        """Every node id, each after all of its descendants; root last.

        Walked with an explicit stack, not recursion: the tree may have any depth (a chain of
        thousands of levels would exceed Python's recursion limit)."""
        return tuple(reversed(self._reverse_post_order()))

    def _reverse_post_order(self) -> list[str]:
        # a pre-order that visits the children last-to-first, reversed, is the post-order with
        # children first-to-last
        out: list[str] = []
        stack = [self.root.id]
        while stack:
            node_id = stack.pop()
            out.append(node_id)
            stack.extend(self.children[node_id])
        return out

    @cached_property
    def pre_order(self) -> tuple[str, ...]:
        """Every node id, parents before children (root first), siblings in Framework order."""
        return self.subtree(self.root.id)

    def subtree(self, node_id: str) -> tuple[str, ...]:
        """``node_id`` and every id below it, in pre-order (siblings in Framework order);
        iterative, so any depth works."""
        out: list[str] = []
        stack = [node_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(reversed(self.children[current]))
        return tuple(out)

    @cached_property
    def depths(self) -> dict[str, int]:
        """The depth of every node (0 for the root), computed once, parents first."""
        out: dict[str, int] = {}
        for node_id in self.pre_order:
            parent = self.by_id[node_id].parent
            out[node_id] = 0 if parent is None else out[parent] + 1
        return out

    def depth(self, node_id: str) -> int:
        """0 for the root, 1 for its children, ..."""
        return self.depths[node_id]

    def ancestors(self, node_id: str) -> tuple[str, ...]:
        """Ids from the parent of ``node_id`` up to the root."""
        out = []
        node = self.by_id[node_id]
        while node.parent is not None:
            out.append(node.parent)
            node = self.by_id[node.parent]
        return tuple(out)

    def descendants(self, node_id: str) -> tuple[str, ...]:
        """Every id below ``node_id``, in pre-order."""
        return self.subtree(node_id)[1:]

    def is_leaf(self, node_id: str) -> bool:
        """True for an indicator."""
        return not self.children[node_id]


def build_tree(nodes: Iterable[Node]) -> tuple[IndicatorTree | None, list[Problem]]:
    """Check ``nodes`` form one tree and return it with the problems found.

    Checks: ids well-formed, unique and not reserved; exactly one root; every parent exists;
    no cycle; every node reaches the root. Returns ``(None, problems)`` when the structure is
    unusable (no single root, a cycle, an unknown parent).
    """
    nodes = tuple(nodes)
    problems: list[Problem] = []

    def bad(node: str, field: str, text: str) -> None:
        problems.append(Problem("Framework", node=node, field=field, problem=text))

    seen: dict[str, str] = {}
    for n in nodes:
        if not n.id:
            bad(n.id, "id", _("a node has no id"))
            continue
        if not _ID_PATTERN.match(n.id):
            bad(n.id, "id", _("node id '{node}' must be ASCII letters, digits, '_', '-' or '.', "
                              "starting with a letter or '_' (no spaces)").format(node=n.id))
        if n.id.lower() in RESERVED_IDS:
            bad(n.id, "id", _("node id '{node}' is reserved for a result column; reserved: "
                              "{reserved}").format(node=n.id,
                                                   reserved=", ".join(sorted(RESERVED_IDS))))
        key = n.id.lower()
        if key in seen:
            bad(n.id, "id", _("node id '{node}' is used twice (also '{other}'); ids must be "
                              "unique (case-insensitive)").format(node=n.id, other=seen[key]))
        seen[key] = n.id

    roots = [n for n in nodes if n.parent is None]
    if len(roots) != 1:
        if roots:
            names = ", ".join(r.id for r in roots)
            for r in roots:
                bad(r.id, "parent", _("node {node} has no parent, as do {nodes}: exactly one "
                                      "node (the index itself) may have a blank parent").format(
                                          node=r.label, nodes=names))
        else:
            problems.append(Problem("Framework", field="parent", problem=_(
                "no node has a blank parent: exactly one node (the index itself) must be the "
                "root")))
    ids = {n.id for n in nodes}
    for n in nodes:
        if n.parent is not None and n.parent not in ids:
            bad(n.id, "parent", _("node {node} has parent '{parent}', which is not a node id "
                                  "(orphan node)").format(node=n.label, parent=n.parent))
        if n.parent == n.id:
            bad(n.id, "parent", _("node {node} is its own parent").format(node=n.label))

    if problems:
        return None, problems

    by_id = {n.id: n for n in nodes}
    # Walk up from each node until the root or a node already walked: each node is walked once,
    # so a deep tree costs linear time (a chain thousands of levels deep stays fast).
    reaches_root: set[str] = set()
    reported: set[str] = set()  # nodes in, or leading into, a cycle already reported
    for n in nodes:
        path: list[str] = []
        place: dict[str, int] = {}
        cur: str | None = n.id
        while cur is not None and cur not in reaches_root and cur not in reported:
            if cur in place:
                cycle = " -> ".join(path[place[cur]:] + [cur])
                bad(n.id, "parent", _("node {node} is in a cycle: {cycle}").format(
                    node=n.label, cycle=cycle))
                break
            place[cur] = len(path)
            path.append(cur)
            cur = by_id[cur].parent
        if cur is None or cur in reaches_root:
            reaches_root.update(path)
        else:
            reported.update(path)
    if problems:
        return None, problems  # one report per cycle: a walk stops at a cycle reported before

    tree = IndicatorTree(nodes)
    for leaf in tree.leaves:
        if tree.by_id[leaf].parent is None:
            bad(leaf, "id", _("the root {node} has no children: the tree needs indicators").format(
                node=tree.by_id[leaf].label))
    return tree, problems
