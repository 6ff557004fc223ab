"""pybabel extractor for BPMN diagrams: the names of user tasks are shown in task queues and task
pages (``{{ task.name|tr }}``), so they are msgids like any other UI text.  See babel.cfg."""
from __future__ import annotations

from xml.etree import ElementTree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SHOWN = ("userTask", "manualTask")


def extract_bpmn(fileobj, keywords, comment_tags, options):
    """Yield ``(lineno, funcname, message, comments)`` for every named user task."""
    tree = ElementTree.parse(fileobj)
    for tag in SHOWN:
        for el in tree.iter(f"{{{BPMN_NS}}}{tag}"):
            name = (el.get("name") or "").strip()
            if name:
                yield 0, None, name, [f"BPMN {tag} {el.get('id')}"]
