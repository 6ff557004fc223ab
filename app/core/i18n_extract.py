"""pybabel extractor for BPMN diagrams: the names of user tasks are shown in task queues and task
pages (``{{ task.name|tr }}``) and every named step in the diagram's text list (``progress.json``
gives them translated), so they are msgids like any other UI text.  See babel.cfg."""
from __future__ import annotations

from xml.etree import ElementTree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
STEP_SUFFIXES = ("Task", "Event", "Gateway")        # userTask, startEvent, exclusiveGateway, ...
STEP_TAGS = ("task", "subProcess", "callActivity")


def extract_bpmn(fileobj, keywords, comment_tags, options):
    """Yield ``(lineno, funcname, message, comments)`` for every named step: user tasks are shown in
    queues and task pages, every step in the diagram's text list (spaces collapsed, as shown)."""
    tree = ElementTree.parse(fileobj)
    for el in tree.iter():
        if not el.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        tag = el.tag.split("}", 1)[1]
        if tag.endswith(STEP_SUFFIXES) or tag in STEP_TAGS:
            name = " ".join((el.get("name") or "").split())
            if name:
                yield 0, None, name, [f"BPMN {tag} {el.get('id')}"]
