"""Real clinical ECG files of each supported format, shipped inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["load_ecg_examples"]

_EXAMPLES = (
    "pydicom_waveform_ecg.dcm",
    "ge_dicom1.dcm",
    "ge_dicom2.dcm",
    "ge_cardiosoft_ukb.xml",
    "philips_sierra_129DYPRG.xml",
)


def load_ecg_examples() -> list[Path]:
    """Return the paths of five real ECG files bundled with sksurv-ecg, one or more per vendor format.

    In order: pydicom's DICOM 12-lead ECG (Mortara, 1000 Hz, with a median beat; MIT), two GE
    DICOMs (500 Hz, median beats of 600 and 512 samples; the second reads atrial fibrillation) and
    a GE CardioSoft XML in the UK Biobank layout (500 Hz strip and ``MedianSamples``), all three
    from ecgprocess 1.2.0 (GPL-3.0-or-later), and a compressed Philips Sierra XML from a patient
    simulator (SPxml 1.1; MIT). Sources, licences and checksums are in ``PROVENANCE.md`` next to
    the files. Read them with :func:`sksurv_ecg.io.read_ecg`.

    Returns
    -------
    paths : list of pathlib.Path
        The five files.

    See Also
    --------
    sksurv_ecg.io.read_ecg : Read them (format recognised from the content).

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_ecg_examples
    >>> [path.name for path in load_ecg_examples()][:2]
    ['pydicom_waveform_ecg.dcm', 'ge_dicom1.dcm']
    """
    folder = resources.files("sksurv_ecg.datasets") / "data" / "examples"
    paths = [Path(str(folder / name)) for name in _EXAMPLES]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"The bundled example ECGs {missing} are missing from {str(folder)!r}; reinstall sksurv-ecg."
        )
    return paths
