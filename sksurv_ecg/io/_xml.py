"""Safe XML parsing for the vendor formats: defusedxml refuses entity expansion and external entities."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from ._common import StrPath, fail

__all__ = ["find_text", "local", "parse_xml"]


def parse_xml(path: StrPath) -> ET.Element:
    """The root element of ``path``; entity declarations, external references and bad XML are errors.

    Parameters
    ----------
    path : str or os.PathLike
        The XML file.
    """
    try:
        root: ET.Element = SafeET.parse(path).getroot()
    except DefusedXmlException as err:
        raise fail(
            path,
            f"the XML declares entities or external references ({type(err).__name__}), which are refused "
            "because they can expand without bound or read other files",
            "export the ECG again from the device or remove the DOCTYPE",
        ) from err
    except ET.ParseError as err:
        raise fail(path, f"the XML is malformed or truncated ({err})", "re-export the file") from err
    return root


def local(tag: str) -> str:
    """A tag without its namespace (Philips files declare one).

    Parameters
    ----------
    tag : str
        An element's tag, e.g. ``"{http://www3.medical.philips.com}restingecgdata"``.
    """
    return tag.rsplit("}", 1)[-1]


def find_text(element: ET.Element, path: str) -> str | None:
    """Stripped text at ``path`` below ``element`` (namespace-blind), or None when absent or empty.

    Parameters
    ----------
    element : xml.etree.ElementTree.Element
        The element to search below.
    path : str
        Tags without namespace separated by ``"/"``, e.g. ``"PatientInfo/Age"``.
    """
    node: ET.Element | None = element
    for part in path.split("/"):
        node = next((child for child in node if local(child.tag) == part), None) if node is not None else None
    text = node.text.strip() if node is not None and node.text else ""
    return text or None
