"""Sphinx configuration: API reference from numpydoc docstrings, user guide in MyST Markdown."""

import sksurv_ecg

project = "sksurv-ecg"
author = "sksurv-ecg developers"
release = version = sksurv_ecg.__version__
copyright = "2026, sksurv-ecg developers. PTB-XL data: CC BY 4.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_static"]
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_static_path = []
# No network on the build machines: cross-references to other projects resolve only when their
# inventories are cached locally, so none are configured.
intersphinx_mapping = {}
# Cross-references to types of other packages (torch.Tensor, skorch.NeuralNet) cannot resolve
# without their inventories.
nitpicky = False
suppress_warnings = ["myst.xref_missing"]

# autosummary writes one page per public object to docs/generated/ at every build; keep it out of git.
_generated = __import__("pathlib").Path(__file__).parent / "generated"
_generated.mkdir(exist_ok=True)
(_generated / ".gitignore").write_text("*\n")
