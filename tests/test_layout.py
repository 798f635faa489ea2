"""The layout's rules, read from the code itself: who may import whom, and no import cycles.

- ``core`` imports nothing above it;
- the domain (``dispatch``) never imports the web layer (``ivr``), the stand-in, the
  composition root or Twilio's packages, except where the vendor lives
  (``dispatch/notification/twilio``) and the worker's entry point, which builds its runtime
  through the composition root;
- no module imports itself back through others.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "dispatch", "ivr", "voice_prompts", "fake_twilio")
TOP_MODULES = ("wiring", "wsgi")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    for name in TOP_MODULES:
        found[name] = ROOT / f"{name}.py"
    return found


MODULES = _modules()


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Names imported by the module at ``path``; with ``top_level_only``, those run when it is
    imported (not inside functions, which run later)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _ours(name: str) -> str | None:
    """The module of ours that ``name`` is or belongs to (``dispatch.jobs.enqueue`` -> ``dispatch.jobs``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _violations(module_prefix: str, forbidden: tuple[str, ...], allowed_in: tuple[str, ...] = ()) -> list[str]:
    bad = []
    for name, path in MODULES.items():
        if not name.startswith(module_prefix) or name.startswith(allowed_in or ("\0",)):
            continue
        for imported in _imports(path):
            if imported.startswith(forbidden):
                bad.append(f"{name} imports {imported}")
    return bad


def test_core_imports_nothing_above_it():
    assert _violations("core", ("dispatch", "ivr", "voice_prompts", "fake_twilio", "wiring")) == []


def test_the_domain_never_imports_the_web_layer_the_stand_in_or_the_vendor():
    forbidden = ("ivr", "fake_twilio", "wiring", "twilio", "flask", "dispatch.notification.twilio")
    bad = _violations("dispatch", forbidden, allowed_in=("dispatch.notification.twilio", "dispatch.worker"))
    assert bad == []


def test_the_worker_reaches_the_vendor_only_through_the_composition_root():
    assert {i for i in _imports(MODULES["dispatch.worker"]) if i.startswith(("ivr", "twilio", "fake_twilio"))} == set()


def test_no_import_cycles():
    graph = {name: {m for i in _imports(path, top_level_only=True) if (m := _ours(i)) and m != name}
             for name, path in MODULES.items()}
    cycles = []

    def visit(node, trail):
        if node in trail:
            cycles.append(" -> ".join(trail[trail.index(node):] + [node]))
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            if not nxt.startswith(node + "."):  # a package importing its own modules is no cycle
                visit(nxt, trail + [node])
        done.add(node)

    done: set[str] = set()
    for name in sorted(graph):
        visit(name, [])
    assert cycles == []


def test_every_address_the_domain_hands_out_is_a_route_of_the_app(stack):
    """The web addresses the composition root gives the domain (``ivr.links``) are answered by
    the app's own blueprints, with the method Twilio uses."""
    from urllib.parse import urlsplit

    from ivr.links import PublicLinks

    links = PublicLinks("https://support.example.com")
    made = [links.sms_status(1), links.voice_page(1), links.voice_page_status(1), links.bridge(1),
            links.bridge_status(1), links.callback_answer("https://support.example.com", "t"),
            links.callback_status("https://support.example.com", "t"), *links.number_webhooks().values()]
    adapter = stack.app.url_map.bind("support.example.com")
    for url in made:
        endpoint, _ = adapter.match(urlsplit(url).path, method="POST")
        assert endpoint, url
    assert PublicLinks(None).sms_status(1) is None and PublicLinks(None).voice_page(1) is None
