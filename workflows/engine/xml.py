"""Reading untrusted BPMN/DMN XML: no DTD, no entities, no network, bounded size, and
nothing a browser could run if the file were ever displayed.

Every problem becomes a :class:`DefinitionError` whose message names the element.
"""

from __future__ import annotations

import re

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
)
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}
MAX_XML_BYTES = 2_000_000
ACTIVE_NAMESPACES = {"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg",
                     "http://www.w3.org/1999/xlink", "http://www.w3.org/1998/Math/MathML"}


class DefinitionError(ValueError):
    """A diagram that cannot be deployed; ``element`` names the culprit."""

    def __init__(self, message: str, element: str | None = None, filename: str | None = None) -> None:
        self.message = message
        self.element = element
        self.filename = filename
        where = f"{filename}: " if filename else ""
        what = f"element '{element}': " if element else ""
        super().__init__(f"{where}{what}{message}")


_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def parse_xml(text: str | bytes, filename: str) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, bounded size."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if len(raw) > MAX_XML_BYTES:
        raise DefinitionError(f"file larger than {MAX_XML_BYTES // 1000} kB", filename=filename)
    if re.search(rb"<!DOCTYPE|<!ENTITY", raw, re.IGNORECASE):
        raise DefinitionError("DOCTYPE and ENTITY declarations are not allowed", filename=filename)
    try:
        root = etree.fromstring(raw, parser=_SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(f"not well-formed XML: {exc}", filename=filename) from None
    if root is None:
        raise DefinitionError("empty document", filename=filename)
    return root


def label(node: etree._Element) -> str:
    """How a designer recognises an element: ``id (name)``."""
    node_id = node.get("id")
    name = node.get("name")
    if node_id and name:
        return f"{node_id} ({name})"
    return node_id or name or etree.QName(node).localname


def owner(node: etree._Element) -> etree._Element:
    """The nearest ancestor that carries an id: the element a designer recognises."""
    current: etree._Element | None = node
    while current is not None and current.get("id") is None:
        current = current.getparent()
    return current if current is not None else node


def check_no_markup(root: etree._Element, filename: str) -> None:
    """Refuse anything a browser could run if the file were ever displayed: HTML/SVG
    elements, <script> outside a BPMN script task, on* handlers, javascript: links."""
    for node in root.iter():
        if not isinstance(node.tag, str):
            if isinstance(node, etree._ProcessingInstruction):
                raise DefinitionError("processing instructions are not allowed", element=label(owner(node)),
                                      filename=filename)
            continue
        qname = etree.QName(node)
        is_bpmn_script = qname.namespace == BPMN_NS and qname.localname == "script"
        if qname.namespace in ACTIVE_NAMESPACES or (qname.localname.lower() == "script" and not is_bpmn_script):
            raise DefinitionError("HTML, SVG and script elements are not allowed in a diagram",
                                  element=label(owner(node)), filename=filename)
        for attr, value in node.attrib.items():
            local = etree.QName(attr).localname.lower()
            if local.startswith("on") or "javascript:" in value.replace(" ", "").lower():
                raise DefinitionError(f"attribute '{local}' is not allowed", element=label(owner(node)),
                                      filename=filename)
