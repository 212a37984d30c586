"""MNIST and CIFAR-10 from a local cache; downloaded only when asked (``download=True``).

    >>> images, labels = load_mnist("train")                   # (60000, 1, 28, 28) uint8, (60000,) int64
    >>> images, labels = load_cifar10("test", download=True)   # (10000, 3, 32, 32) uint8, (10000,) int64
    >>> x = torch.from_numpy(images).float().div_(255)         # floats in [0, 1] when you need them

Images come back as uint8 NCHW arrays, as stored: a quarter of the memory of float32, and a
quarter of the bytes to move when the whole set is copied to a GPU once and converted there.

The cache is ``$COURSE_DATA`` when that variable is set, else ``~/.cache/course_lib``:

    <cache>/mnist/train-images-idx3-ubyte.gz   (and the three other IDX files, gzipped)
    <cache>/cifar10/cifar-10-python.tar.gz     (the "python version" tarball, read as it is)

Nothing is downloaded unless ``download=True``; a missing file is a FileNotFoundError that says
where to put it, and a failed download a ConnectionError that says what to do offline.
Downloads are checked against the published MD5 sums. The CIFAR-10 batches are Python pickles,
and unpickling can run arbitrary code: they are read with an unpickler that builds NumPy arrays,
lists, dicts and strings only, and refuses anything else.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

Array = np.ndarray

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = {CIFAR10_ARCHIVE: "c58f30108f718f92721af3b95e74349a"}
CIFAR10_BATCHES = {
    "train": tuple(f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)),
    "test": ("cifar-10-batches-py/test_batch",),
}
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def cache_dir() -> Path:
    """``$COURSE_DATA`` if set, else ``~/.cache/course_lib``."""
    return Path(os.environ.get("COURSE_DATA", "~/.cache/course_lib")).expanduser()


# ---------------------------------------------------------------------------
# MNIST: IDX files
# ---------------------------------------------------------------------------

def load_mnist(split: str = "train", root: str | Path | None = None, download: bool = False) -> tuple[Array, Array]:
    """Handwritten digits: images (N, 1, 28, 28) uint8 in 0..255, labels (N,) int64 in 0..9.

    N = 60000 for "train", 10000 for "test". Files are read from ``root`` (default
    ``cache_dir() / "mnist"``) and fetched from ``MNIST_URL`` first when ``download`` is True.
    """
    _check_split(split)
    folder = Path(root) if root is not None else cache_dir() / "mnist"
    paths = [_ensure(folder / name, MNIST_URL + name, MNIST_MD5[name], download, "load_mnist") for name in MNIST_FILES[split]]
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
        raise ValueError(f"MNIST files {paths[0].name} and {paths[1].name} should hold (N, 28, 28) images and (N,) labels, "
                         f"got {images.shape} and {labels.shape}")
    if labels.max(initial=0) > 9:
        raise ValueError(f"{paths[1]}: MNIST labels lie in 0..9, found {labels.max()}")
    return images[:, None], labels.astype(np.int64)


def read_idx(path: str | Path) -> Array:
    """Read an IDX file of unsigned bytes (gzipped when the name ends in .gz).

    Format: two zero bytes, a type code (0x08 = uint8), the number of dimensions d, then d
    big-endian uint32 sizes, then the values in row-major order.
    """
    path = Path(path)
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (header {data[:4]!r}, expected b'\\x00\\x00\\x08' and a rank)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: the IDX header announces {ndim} dimensions but the file ends after {len(data)} bytes")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    if len(data) - header != int(np.prod(shape)):
        raise ValueError(f"{path}: the header announces shape {shape} ({int(np.prod(shape))} values), "
                         f"the file holds {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


# ---------------------------------------------------------------------------
# CIFAR-10: pickled batches in a tarball
# ---------------------------------------------------------------------------

def load_cifar10(split: str = "train", root: str | Path | None = None, download: bool = False) -> tuple[Array, Array]:
    """Tiny colour photos: images (N, 3, 32, 32) uint8, labels (N,) int64 in 0..9 (see ``CIFAR10_CLASSES``).

    N = 50000 for "train" (five batches), 10000 for "test". The tarball is read from ``root``
    (default ``cache_dir() / "cifar10"``) without extracting it.
    """
    _check_split(split)
    folder = Path(root) if root is not None else cache_dir() / "cifar10"
    archive = _ensure(folder / CIFAR10_ARCHIVE, CIFAR10_URL, CIFAR10_MD5[CIFAR10_ARCHIVE], download, "load_cifar10")
    images, labels = [], []
    with tarfile.open(archive, "r:gz") as tar:
        for member in CIFAR10_BATCHES[split]:
            try:
                f = tar.extractfile(member)
            except KeyError:
                f = None
            if f is None:
                raise ValueError(f"{archive} has no file {member}: is it the CIFAR-10 python version?")
            x, y = read_cifar_batch(f, name=member)
            images.append(x)
            labels.append(y)
    return np.concatenate(images), np.concatenate(labels)


def read_cifar_batch(f: io.BufferedIOBase, name: str = "batch") -> tuple[Array, Array]:
    """One pickled batch -> images (n, 3, 32, 32) uint8, labels (n,) int64.

    A batch is a dict with "data", a (n, 3072) uint8 array whose rows hold the red, then green,
    then blue 32x32 plane (so a reshape gives NCHW), and "labels", a list of n ints.
    """
    try:
        batch = _ArrayUnpickler(f, encoding="latin1").load()  # latin1: the batches were pickled by Python 2
    except pickle.UnpicklingError as error:
        raise ValueError(f"{name}: {error}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{name}: a CIFAR-10 batch is a dict, got {type(batch).__name__}")
    batch = {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{name}: 'data' should be a (n, 3072) uint8 array, got "
                         f"{getattr(data, 'dtype', type(data).__name__)} {getattr(data, 'shape', '')}")
    labels = np.asarray(labels, dtype=np.int64) if isinstance(labels, list) else None
    if labels is None or labels.shape != (len(data),) or (len(labels) and not 0 <= labels.min() <= labels.max() <= 9):
        raise ValueError(f"{name}: 'labels' should be a list of {len(data)} ints in 0..9")
    return data.reshape(-1, 3, 32, 32), labels


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and NumPy arrays; any other global is refused, not imported."""

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
               ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays, lists and strings")
        if name == "_reconstruct":  # numpy 2 moved numpy.core to numpy._core; files name either
            return _multiarray()._reconstruct
        return super().find_class(module, name)


def _multiarray():
    try:
        return importlib.import_module("numpy._core.multiarray")
    except ImportError:  # numpy 1.x
        return importlib.import_module("numpy.core.multiarray")


# ---------------------------------------------------------------------------
# The cache and downloads
# ---------------------------------------------------------------------------

def _check_split(split: str) -> None:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


def _ensure(path: Path, url: str, md5: str, download: bool, caller: str) -> Path:
    """The cached file at ``path``, downloaded first when missing and ``download`` is True."""
    if path.exists():
        return path
    if not download:
        raise FileNotFoundError(
            f"{path} is missing. Call {caller}(..., download=True) to fetch it (about a minute, needs internet), "
            f"or copy {url} there by hand; set COURSE_DATA to use another cache folder."
        )
    download_file(url, path, md5)
    return path


def download_file(url: str, path: Path, md5: str) -> None:
    """Fetch ``url`` to ``path`` (through a .part file, so an interrupted download leaves nothing) and check its MD5."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    print(f"downloading {url} to {path}")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError) as error:
        part.unlink(missing_ok=True)
        raise ConnectionError(
            f"could not download {url} ({getattr(error, 'reason', error)}). If this machine is offline, download the "
            f"file on one that is online and copy it to {path}; then call again without download=True."
        ) from error
    digest = _md5(part)
    if digest != md5:
        part.unlink()
        raise ValueError(f"{url} downloaded with MD5 {digest}, expected {md5}: the file is damaged or not the one expected; try again")
    part.replace(path)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
