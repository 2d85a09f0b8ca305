"""Import cycles among netlab's modules, function-level imports included (grimp, installed
with import-linter): prints each strongly connected component of the import graph.
tests/test_architecture.py asserts there are none.

    .venv/bin/python scripts/cycles.py
"""

from __future__ import annotations


def import_cycles(package: str = "netlab") -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    import grimp

    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    edges = {m: sorted(d for d in graph.find_modules_directly_imported_by(m) if d in graph.modules)
             for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(found)


if __name__ == "__main__":
    cycles = import_cycles()
    print(f"{len(cycles)} import cycles")
    for component in cycles:
        print("  " + " <-> ".join(component))
