"""Resumable conversion of ECG files of any supported format into a memory-mapped ``.npy``."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..conventions import LEAD_NAMES
from ..utils import atomic_write_text
from ..utils.validation import check_path_list
from ._common import FloatArray, StrPath
from ._read import _read_one, ecg_files_in
from ._wfdb import _OUTPUT_UNITS, _check_params, _unit_key

__all__ = ["to_memmap"]

_MEMMAP_FORMAT = "sksurv-ecg.memmap.v1"
_VERBOSE_MIN_RECORDS = 50

_Float32Memmap: TypeAlias = np.memmap[Any, np.dtype[np.float32]]


def _memmap_sidecars(path: Path) -> tuple[Path, Path]:
    """The manifest (record ids, CSV) and the progress marker (JSON) that sit next to ``path``."""
    stem = path.with_suffix("") if path.suffix == ".npy" else path
    return stem.with_name(stem.name + ".records.csv"), stem.with_name(stem.name + ".progress.json")


def _memmap_sources(
    source: StrPath | pd.Series | Iterable[StrPath], root: StrPath | None
) -> tuple[list[str], list[Path]]:
    """Record ids and file paths of a folder, a Series (index = ids) or a list of paths."""
    if isinstance(source, pd.Series):
        paths = [Path(root) / p if root is not None else Path(p) for p in source.tolist()]
        return [str(i) for i in source.index], paths
    if isinstance(source, str | os.PathLike):
        folder = Path(root) / source if root is not None else Path(source)
        if folder.is_dir():
            paths = ecg_files_in(folder)
            if not paths:
                raise FileNotFoundError(
                    f"source folder {str(folder)!r} holds no ECG file in a supported format; pass the folder of "
                    "the files or a list of paths."
                )
            return [p.relative_to(folder).as_posix() for p in paths], paths
    names = check_path_list(source)
    paths = [Path(root) / p if root is not None else p for p in names]
    ids = [p.with_suffix("").as_posix() if p.suffix.lower() in {".hea", ".dat"} else p.as_posix() for p in names]
    return ids, paths


def _resume_point(path: Path, progress_file: Path, expected: dict[str, Any], overwrite: bool) -> int:
    """Records already converted by an earlier, matching call (0 to start afresh)."""
    if overwrite or not progress_file.is_file():
        if path.exists() and not overwrite:
            raise FileExistsError(
                f"{str(path)!r} exists but has no progress marker {progress_file.name!r}, so it was not written "
                "by to_memmap; pass overwrite=True to replace it, or another path."
            )
        return 0
    progress = json.loads(progress_file.read_text())
    found = {k: progress.get(k) for k in expected}
    if found != expected:
        changed = sorted(k for k in expected if found[k] != expected[k])
        raise ValueError(
            f"{str(path)!r} was started with other settings (differing: {changed}); rerun with the same "
            "records and settings to resume, or pass overwrite=True to start again."
        )
    if not path.is_file():
        return 0
    return int(progress["n_done"])


def _open_read_only(path: Path) -> _Float32Memmap:
    """The finished ``.npy`` at ``path``, memory-mapped read-only."""
    X: _Float32Memmap = np.load(path, mmap_mode="r")
    return X


def to_memmap(
    source: StrPath | pd.Series | Iterable[StrPath],
    path: StrPath,
    *,
    fs: float = 500,
    length: int | None = None,
    leads: Sequence[str] = LEAD_NAMES,
    resample: bool = False,
    units: str = "mV",
    pad: bool = False,
    derive_leads: bool = True,
    root: StrPath | None = None,
    checkpoint_every: int = 256,
    overwrite: bool = False,
    verbose: bool | None = None,
) -> _Float32Memmap:
    """Convert ECG files into a memory-mapped float32 ``.npy`` for cohorts larger than memory.

    Files of any format :func:`~sksurv_ecg.io.read_ecg` reads are read one at a time (as it reads
    them: format from content, leads by name, mV, rate, length) and written into a
    ``(n_records, n_leads, n_timesteps)`` array created with
    :func:`numpy.lib.format.open_memmap`, so memory stays at one record whatever the cohort size.
    The result is an ordinary ``.npy``: ``numpy.load(path, mmap_mode="r")`` opens it, and every
    estimator of sksurv-ecg streams its batches from it without loading it.

    Two files sit next to ``path``: ``<name>.records.csv``, the manifest (column ``record``: the
    record id of each row, in order), and ``<name>.progress.json``, the
    progress marker. Every ``checkpoint_every`` records the array is flushed to disk and then the
    marker is replaced atomically, so an interrupted conversion (Ctrl-C, a killed job) is resumed
    by calling ``to_memmap`` again with the same arguments: it continues after the last flushed
    record, redoes at most ``checkpoint_every`` records and loses none. A finished conversion is
    not redone; the call just opens it.

    Parameters
    ----------
    source : str, os.PathLike, pandas.Series or iterable of paths
        A folder (its ECG files as :func:`~sksurv_ecg.io.read_ecg` lists them: below it, sorted
        by path, a WFDB record named by its header, hidden files and non-ECG files such as a CSV
        left out, a damaged file with an ECG suffix kept and refused by name), a
        Series of paths whose index gives the record ids (e.g.
        :func:`sksurv_ecg.datasets.ptbxl_records` for a PTB-XL download, ids = ``ecg_id``), or
        file paths as for :func:`~sksurv_ecg.io.read_ecg`.
    path : str or os.PathLike
        The ``.npy`` file to write.
    fs : float, default=500
        Sampling frequency in Hz; records at another rate need ``resample=True``.
    length : int or None, default=None
        Samples per record; ``None`` takes the first record's length and requires all to match.
    leads : sequence of str, default=LEAD_NAMES
        Lead names to store, in this order.
    resample : bool, default=False
        Whether records at another rate are resampled to ``fs``.
    units : {"mV", "uV"}, default="mV"
        Units of the stored signals.
    pad : bool, default=False
        With ``length``, zero-pad shorter records instead of raising.
    derive_leads : bool, default=True
        Derive III, aVR, aVL, aVF from I and II for 8-lead files (see :func:`~sksurv_ecg.io.read_ecg`).
    root : str, os.PathLike or None, default=None
        Folder that relative ``source`` paths are joined to.
    checkpoint_every : int, default=256
        Records between two flushes of the array and the progress marker.
    overwrite : bool, default=False
        Start again even if ``path`` exists (finished, partial or foreign).
    verbose : bool or None, default=None
        Show a progress bar; ``None`` shows one for 50 records or more.

    Returns
    -------
    X : numpy.memmap of shape (n_records, n_leads, n_timesteps), dtype float32
        The finished array, opened read-only.

    Raises
    ------
    FileExistsError
        When ``path`` exists but was not written by ``to_memmap`` and ``overwrite=False``.
    ValueError
        When a partial conversion at ``path`` used other records or settings, or a record is
        invalid (as in :func:`~sksurv_ecg.io.read_ecg`; fix it and call again to resume).

    See Also
    --------
    read_ecg : Read files into memory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from sksurv_ecg.datasets import load_ecg_examples
    >>> from sksurv_ecg.io import to_memmap
    >>> files = pd.Series(load_ecg_examples(), index=["a", "b", "c", "d", "e"])
    >>> out = Path(tempfile.mkdtemp()) / "examples.npy"
    >>> X = to_memmap(files, out, fs=500, length=5000, resample=True)
    >>> X.shape, X.dtype
    ((5, 12, 5000), dtype('float32'))
    >>> pd.read_csv(out.with_name("examples.records.csv"))["record"].tolist()
    ['a', 'b', 'c', 'd', 'e']
    """
    _check_params(fs, leads, units, length)
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every={checkpoint_every!r} must be a positive int number of records.")
    path = Path(path)
    manifest_file, progress_file = _memmap_sidecars(path)
    ids, records = _memmap_sources(source, root)
    out_factor = _OUTPUT_UNITS[_unit_key(units)]

    def read(i: int) -> FloatArray:
        signal, _, _ = _read_one(records[i], fs, list(leads), derive_leads, resample, length, pad, None, False)
        return signal * out_factor

    expected = {
        "format": _MEMMAP_FORMAT,
        "n_records": len(ids),
        "records_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
        "settings": {
            "fs": float(fs),
            "length": length,
            "leads": list(leads),
            "resample": bool(resample),
            "units": str(units),
            "pad": bool(pad),
            "derive_leads": bool(derive_leads),
        },
    }
    start = _resume_point(path, progress_file, expected, overwrite)
    progress: dict[str, Any] = {}
    X: _Float32Memmap | None = None
    if start:
        progress = json.loads(progress_file.read_text())
        if progress.get("complete"):
            return _open_read_only(path)
        X = np.lib.format.open_memmap(path, mode="r+")
        if list(X.shape) != progress["shape"] or X.dtype != np.float32:
            X, start = None, 0  # the .npy does not belong to the marker: start again
    if X is None:
        first = read(0)  # the first record fixes the length when length=None
        shape = (len(ids), len(leads), first.shape[-1])
        progress = {**expected, "shape": list(shape), "dtype": "float32", "n_done": 0, "complete": False}
        atomic_write_text(progress_file, json.dumps(progress, indent=1))
        X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
        manifest = io.StringIO()
        csv.writer(manifest, lineterminator="\n").writerows([["record"], *([i] for i in ids)])
        atomic_write_text(manifest_file, manifest.getvalue())
        X[0], start = first, 1
    show = len(ids) >= _VERBOSE_MIN_RECORDS if verbose is None else bool(verbose)
    _fill_memmap(X, start, read, records, progress, progress_file, checkpoint_every, show)
    return _open_read_only(path)


def _fill_memmap(
    X: _Float32Memmap,
    start: int,
    read: Callable[[int], FloatArray],
    records: list[Path],
    progress: dict[str, Any],
    progress_file: Path,
    checkpoint_every: int,
    show: bool,
) -> None:
    """Write records ``start..`` into ``X``; flush, then mark progress, every ``checkpoint_every``."""

    def checkpoint(n_done: int, complete: bool = False) -> None:
        X.flush()  # the data reach the file before the marker says they are there
        progress.update(n_done=n_done, complete=complete)
        atomic_write_text(progress_file, json.dumps(progress, indent=1))

    n_records, n_timesteps = X.shape[0], X.shape[-1]
    with tqdm(total=n_records, initial=start, desc="Caching ECGs", unit="record", disable=not show) as bar:
        for i in range(start, n_records):
            signal = read(i)
            if signal.shape[-1] != n_timesteps:
                raise ValueError(
                    f"ECG file {str(records[i])!r} has {signal.shape[-1]} samples, but the cache holds "
                    f"{n_timesteps} per record; pass length= (with pad=True for shorter records) and "
                    "overwrite=True."
                )
            X[i] = signal
            bar.update()
            if (i + 1) % checkpoint_every == 0:
                checkpoint(i + 1)
    checkpoint(n_records, complete=True)
