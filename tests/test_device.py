import numpy as np
import pytest
import torch

from course_lib.device import describe_device, get_device, seed_everything


def test_get_device_prefers_cuda_then_mps_then_cpu():
    device = get_device()
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device.type == "cpu"
    assert isinstance(describe_device(device), str)


def test_get_device_cpu_always_available_and_bad_names_rejected():
    assert get_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="prefer must be"):
        get_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without a GPU")
def test_asking_for_missing_cuda_is_an_error():
    with pytest.raises(ValueError, match="not available"):
        get_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_description_names_the_card():
    assert describe_device(get_device("cuda")).startswith("cuda:")


def test_seed_everything_repeats_numpy_and_torch():
    rng = seed_everything(3)
    a = (rng.standard_normal(4), np.random.rand(2), torch.rand(3))
    rng = seed_everything(3)
    b = (rng.standard_normal(4), np.random.rand(2), torch.rand(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert torch.equal(a[2], b[2])


def test_seed_everything_rejects_bad_seed():
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)


def test_describe_device_counts_cpu_threads():
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert describe_device(torch.device("cpu")) == "cpu (1 thread)"
        torch.set_num_threads(2)
        assert describe_device(torch.device("cpu")) == "cpu (2 threads)"
    finally:
        torch.set_num_threads(threads)
