"""A take's family tree, read in one query and built in memory (no recursion, so a chain
of a thousand extends draws like a bush of a thousand variations).

Below the lifecycle: pushes (live.py) redraw trees, and lineage.py makes them grow.
"""

from .models import Take

# What a tree's node shows (templatetags/slate.py's tree items, ``take tree --json``).
NODE_FIELDS = (
    "id",
    "workspace_id",
    "parent_id",
    "root_id",
    "created_at",
    "status",
    "stage",
    "operation",
    "method",
    "size",
    "poster",
    "charged",
    "estimate",
)


class Member:
    """A take as its tree's node shows it: NODE_FIELDS, read as plain values. Building a
    thousand ``Take`` instances was most of the take page's time (35 ms of 90), and a field
    left out fails loudly here instead of costing a query per node."""

    __slots__ = NODE_FIELDS

    def __init__(self, row: dict):
        for name in NODE_FIELDS:
            setattr(self, name, row[name])

    @property
    def pk(self) -> int:
        return self.id

    status_label = Take.status_label
    get_operation_display = Take.get_operation_display
    get_method_display = Take.get_method_display


class Node:
    """One take in its family tree, with its children (oldest first)."""

    def __init__(self, take: "Take | Member"):
        self.take, self.children, self.depth, self.on_path = take, [], 0, False

    def walk(self):
        """This node and every node below it, parents first (no recursion: a tree may be a
        chain of a thousand extends)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def rows(self):
        """The tree as a template draws nested lists without recursing: ("node", n) opens
        an item, ("down", n) a list of n's children, ("up", n) closes that list and n's
        item, ("leaf", n) closes a childless item."""
        stack: list[tuple[str, Node]] = [("node", self)]
        while stack:
            kind, node = stack.pop()
            yield kind, node
            if kind == "node":
                if node.children:
                    stack.append(("up", node))
                    stack.extend(("node", child) for child in reversed(node.children))
                    stack.append(("down", node))
                else:
                    stack.append(("leaf", node))

    def as_dict(self) -> dict:
        """Nested: id, operation, method, status, children (``take tree --json``)."""
        out: dict[int, dict] = {}
        for node in reversed(list(self.walk())):  # children before their parents
            take = node.take
            out[take.pk] = {
                "id": take.pk,
                "operation": take.operation,
                "method": take.method,
                "status": take.status,
                "children": [out[child.take.pk] for child in node.children],
            }
        return out[self.take.pk]


def family_tree(take: Take, current: Take | None = None) -> Node:
    """``take``'s whole tree from its root, in one query; the nodes from the root down to
    ``current`` (default: ``take``) have ``on_path`` set (pass False for none). The nodes'
    takes are Members (NODE_FIELDS only)."""
    found = [Member(row) for row in Take.objects.family(take).values(*NODE_FIELDS)]
    nodes = {member.pk: Node(member) for member in found}
    root = nodes.get(take.root_pk) or Node(take)
    for member in found:
        if member.pk != root.take.pk:
            # A take whose parent was deleted hangs from the root, so none is lost.
            parent = nodes.get(member.parent_id) or root
            parent.children.append(nodes[member.pk])
    for node in root.walk():  # parents before their children: depths run down
        for child in node.children:
            child.depth = node.depth + 1
    if current is not False:
        at = nodes.get((current or take).pk)
        while at is not None:
            at.on_path = True
            at = nodes.get(at.take.parent_id) if at is not root else None
    return root
