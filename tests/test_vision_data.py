"""MNIST and CIFAR-10 loaders, on small files written here in the real formats; nothing is downloaded."""

import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile
import urllib.error

import numpy as np
import pytest

from course_lib import vision_data
from course_lib.vision_data import load_cifar10, load_mnist, read_cifar_batch, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: 0, 0, type 0x08, rank, big-endian sizes, values."""
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_mnist(folder, rng, n_train=5, n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    sets = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for name, array in zip(vision_data.MNIST_FILES[split], (images, labels)):
            (folder / name).write_bytes(gzip.compress(idx_bytes(array)))
        sets[split] = (images, labels)
    return sets


def cifar_batch_bytes(images: np.ndarray, labels: list) -> bytes:
    """A batch as the CIFAR-10 python version stores it: a pickled dict of a (n, 3072) array and a list."""
    batch = {"batch_label": "fake batch", "labels": labels, "data": images.reshape(len(images), -1),
             "filenames": [f"img_{i}.png" for i in range(len(images))]}
    return pickle.dumps(batch, protocol=2)


def write_cifar(folder, rng, n=4):
    folder.mkdir(parents=True, exist_ok=True)
    sets = {"train": ([], []), "test": ([], [])}
    with tarfile.open(folder / vision_data.CIFAR10_ARCHIVE, "w:gz") as tar:
        for split, members in vision_data.CIFAR10_BATCHES.items():
            for member in members:
                images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
                labels = rng.integers(0, 10, n).tolist()
                data = cifar_batch_bytes(images, labels)
                info = tarfile.TarInfo(member)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                sets[split][0].append(images)
                sets[split][1].extend(labels)
    return {k: (np.concatenate(v[0]), np.array(v[1])) for k, v in sets.items()}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to reach the network fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to download")
    monkeypatch.setattr(vision_data.urllib.request, "urlopen", refuse)


def test_mnist_is_read_from_the_cache(tmp_path):
    sets = write_mnist(tmp_path, np.random.default_rng(0))
    for split, (images, labels) in sets.items():
        x, y = load_mnist(split, root=tmp_path)
        assert x.shape == (len(images), 1, 28, 28) and x.dtype == np.uint8
        np.testing.assert_array_equal(x[:, 0], images)
        np.testing.assert_array_equal(y, labels)
        assert y.dtype == np.int64


def test_the_cache_folder_comes_from_course_data(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    write_mnist(tmp_path / "mnist", np.random.default_rng(1))
    assert load_mnist("test")[0].shape == (3, 1, 28, 28)


def test_read_idx_rejects_damaged_files(tmp_path):
    good = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    (tmp_path / "ok.idx").write_bytes(good)
    np.testing.assert_array_equal(read_idx(tmp_path / "ok.idx"), np.arange(12).reshape(3, 4))
    (tmp_path / "short.idx").write_bytes(good[:-1])
    with pytest.raises(ValueError, match=r"announces shape \(3, 4\) \(12 values\), the file holds 11"):
        read_idx(tmp_path / "short.idx")
    (tmp_path / "float.idx").write_bytes(bytes([0, 0, 0x0D, 1]) + good[4:])
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes"):
        read_idx(tmp_path / "float.idx")


def test_mnist_files_of_the_wrong_shape_are_refused(tmp_path):
    write_mnist(tmp_path, np.random.default_rng(2))
    name = vision_data.MNIST_FILES["test"][1]
    (tmp_path / name).write_bytes(gzip.compress(idx_bytes(np.zeros(4, dtype=np.uint8))))  # 4 labels for 3 images
    with pytest.raises(ValueError, match=r"got \(3, 28, 28\) and \(4,\)"):
        load_mnist("test", root=tmp_path)


def test_cifar10_is_read_from_the_tarball(tmp_path):
    sets = write_cifar(tmp_path, np.random.default_rng(3))
    for split, (images, labels) in sets.items():
        x, y = load_cifar10(split, root=tmp_path)
        assert x.shape == (len(images), 3, 32, 32) and x.dtype == np.uint8
        np.testing.assert_array_equal(x, images)
        np.testing.assert_array_equal(y, labels)
    assert len(sets["train"][0]) == 5 * 4 and len(vision_data.CIFAR10_CLASSES) == 10


def test_batches_pickled_by_numpy_1_load_too():
    """The real files name numpy.core.multiarray, which NumPy 2 renamed numpy._core.multiarray."""
    images = np.arange(2 * 3072).astype(np.uint8).reshape(2, 3, 32, 32)
    old = cifar_batch_bytes(images, [3, 4]).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"cnumpy.core.multiarray\n" in old
    x, y = read_cifar_batch(io.BytesIO(old))
    np.testing.assert_array_equal(x, images)
    assert y.tolist() == [3, 4]


def test_a_pickle_that_would_run_code_is_refused():
    class Exploit:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(ValueError, match="refusing to load"):
        read_cifar_batch(io.BytesIO(pickle.dumps({"data": Exploit()}, protocol=2)))


def test_cifar_batches_of_the_wrong_layout_are_refused():
    images = np.zeros((2, 3, 32, 32), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"list of 2 ints in 0..9"):
        read_cifar_batch(io.BytesIO(cifar_batch_bytes(images, [0, 10])))
    with pytest.raises(ValueError, match=r"\(n, 3072\) uint8 array, got float64"):
        read_cifar_batch(io.BytesIO(cifar_batch_bytes(images.astype(float), [0, 1])))


def test_a_missing_cache_says_how_to_get_the_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\. Call load_mnist\(\.\.\., download=True\)"):
        load_mnist(root=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"cifar-10-python.tar.gz is missing\. Call load_cifar10"):
        load_cifar10(root=tmp_path)
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation", root=tmp_path)


def test_offline_download_gives_a_clear_error_and_leaves_no_file(tmp_path, monkeypatch):
    def offline(url, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(vision_data.urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError, match=r"(?s)could not download .*train-images.*offline.*copy it to"):
        load_mnist(root=tmp_path, download=True)
    assert list(tmp_path.iterdir()) == []


def test_download_fetches_checks_and_caches(tmp_path, monkeypatch):
    """The download path with a stand-in for the network: right bytes are kept, wrong ones refused."""
    source = tmp_path / "server"
    write_mnist(source, np.random.default_rng(4))
    served = {vision_data.MNIST_URL + p.name: p.read_bytes() for p in source.iterdir()}
    monkeypatch.setattr(vision_data, "MNIST_MD5", {url.rsplit("/", 1)[1]: hashlib.md5(b).hexdigest() for url, b in served.items()})
    monkeypatch.setattr(vision_data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(served[url]))
    cache = tmp_path / "cache"
    x, y = load_mnist("train", root=cache, download=True)
    assert x.shape == (5, 1, 28, 28) and sorted(p.name for p in cache.iterdir()) == sorted(vision_data.MNIST_FILES["train"])
    served = {url: b"not mnist" for url in served}
    with pytest.raises(ValueError, match="downloaded with MD5"):
        load_mnist("test", root=cache, download=True)
    assert not any(p.name.startswith("t10k") for p in cache.iterdir())
