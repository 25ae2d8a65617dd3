"""Safe loading of uploaded BPMN XML: no DTD, no entities, no network, a size limit."""

from __future__ import annotations

from lxml import etree

from engine.errors import InvalidProcessError, Problem

MAX_BPMN_BYTES = 5 * 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_bpmn_bytes(data: bytes, filename: str) -> etree._ElementTree:
    """Parse one uploaded BPMN file; raise InvalidProcessError for anything unsafe or malformed."""
    if len(data) > MAX_BPMN_BYTES:
        raise InvalidProcessError([Problem(None, None, "The file is larger than 5 MB.", filename)])
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise InvalidProcessError(
            [Problem(None, None, "DOCTYPE and entity declarations are not allowed.", filename)]
        )
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        message = f"The file is not well-formed XML: {exc.msg}"
        raise InvalidProcessError([Problem(None, line, message, filename)]) from exc
    tree = root.getroottree()
    if getattr(tree.docinfo, "doctype", None) or tree.docinfo.internalDTD is not None:
        raise InvalidProcessError(
            [Problem(None, None, "DOCTYPE and entity declarations are not allowed.", filename)]
        )
    return tree
