"""numpy interop without copies, views against numpy, lifetimes and bad arguments."""

import gc
import weakref

import numpy as np
import pytest

import exafold


def test_numpy_to_tensor_shares_memory():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = exafold.from_numpy(a)
    assert t.data_ptr == a.ctypes.data
    assert t.shape == (2, 3, 4)
    assert t.strides == a.strides
    assert t.dtype == "float32"
    a[1, 2, 3] = -5.0
    assert t.numpy()[1, 2, 3] == -5.0


def test_tensor_to_numpy_shares_memory():
    t = exafold.empty([5, 7], "float64")
    a = t.numpy()
    assert a.ctypes.data == t.data_ptr
    a[...] = 3.0
    assert np.asarray(t).sum() == 3.0 * 35


def test_tensor_keeps_array_alive_when_array_is_dropped_first():
    class Owner(np.ndarray):
        pass

    a = np.arange(1000, dtype=np.int64).view(Owner)
    ref = weakref.ref(a)
    t = exafold.from_numpy(a)
    del a
    gc.collect()
    assert ref() is not None  # the tensor holds it
    assert t.numpy()[999] == 999
    del t
    gc.collect()
    assert ref() is None  # and lets go with the last tensor


def test_array_keeps_storage_alive_when_tensor_is_dropped_first():
    before = exafold.memory_stats()["in_use"]
    t = exafold.empty([1024, 1024], "float32")
    a = t.numpy()
    a[...] = 7.0
    del t
    gc.collect()
    assert exafold.memory_stats()["in_use"] >= before + 4 * 2**20
    assert float(a[1023, 1023]) == 7.0  # still valid memory
    del a
    gc.collect()
    assert exafold.memory_stats()["in_use"] == before


@pytest.mark.parametrize(
    "dtype", [np.float32, np.float64, np.float16, np.int8, np.int32, np.int64, np.uint8, np.bool_]
)
def test_dtypes_round_trip(dtype):
    a = (np.arange(12) % 2).astype(dtype).reshape(3, 4)
    b = exafold.from_numpy(a).numpy()
    assert b.dtype == a.dtype
    np.testing.assert_array_equal(a, b)


def test_bfloat16_is_uint16_raw_bits():
    x = np.array([1.0, -2.5, 3.140625, 1e-3], dtype=np.float32)
    bits = exafold.float32_to_bfloat16(x)
    assert bits.dtype == np.uint16
    # bfloat16 is the top half of float32; these values round to nearest even.
    expected = ((x.view(np.uint32) + 0x7FFF + ((x.view(np.uint32) >> 16) & 1)) >> 16).astype(np.uint16)
    np.testing.assert_array_equal(bits, expected)
    t = exafold.from_numpy(bits, dtype="bfloat16")
    assert t.dtype == "bfloat16"
    assert t.numpy().ctypes.data == bits.ctypes.data
    np.testing.assert_allclose(exafold.bfloat16_to_float32(t.numpy()), x, rtol=2**-8)
    with pytest.raises(ValueError, match="uint16"):
        exafold.from_numpy(x, dtype="bfloat16")


def test_views_match_numpy():
    a = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    t = exafold.from_numpy(a)
    np.testing.assert_array_equal(t.slice(2, 1, 4, 2).numpy(), a[:, :, 1:4:2])
    np.testing.assert_array_equal(t.slice(1, -2, 10).numpy(), a[:, -2:])
    np.testing.assert_array_equal(t.select(3, -1).numpy(), a[..., -1])
    np.testing.assert_array_equal(t.permute([3, 1, 0, 2]).numpy(), a.transpose(3, 1, 0, 2))
    np.testing.assert_array_equal(t.transpose(0, 3).numpy(), a.swapaxes(0, 3))
    np.testing.assert_array_equal(t.reshape([6, -1]).numpy(), a.reshape(6, -1))
    np.testing.assert_array_equal(t.unsqueeze(1).numpy(), a[:, None])
    b = t.slice(0, 0, 1)
    np.testing.assert_array_equal(b.broadcast_to([3, 2, 3, 4, 5]).numpy(), np.broadcast_to(a[:1], (3, 2, 3, 4, 5)))
    for view in (t.permute([3, 1, 0, 2]), t.slice(2, 1, 4, 2), b.broadcast_to([2, 3, 4, 5])):
        c = view.contiguous()
        assert c.is_contiguous()
        assert c.numpy().flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(c.numpy(), view.numpy())


def test_negative_and_odd_strides_from_numpy():
    a = np.arange(30, dtype=np.float64).reshape(5, 6)[::-2, 1::3]
    t = exafold.from_numpy(a)
    np.testing.assert_array_equal(t.numpy(), a)
    np.testing.assert_array_equal(t.contiguous().numpy(), a)


def test_bad_arguments_raise_the_right_python_exceptions():
    t = exafold.empty([2, 3])
    with pytest.raises(ValueError, match="cannot reshape"):
        t.reshape([4, 2])
    with pytest.raises(ValueError, match="out of range"):
        t.select(0, 5)
    with pytest.raises(ValueError, match="unknown dtype 'float8'"):
        exafold.empty([2], "float8")
    with pytest.raises(ValueError, match="unknown device 'tpu:0'"):
        exafold.empty([2], "float32", "tpu:0")
    with pytest.raises(ValueError, match="complex128 has no exafold equivalent"):
        exafold.from_numpy(np.zeros(3, dtype=np.complex128))
    with pytest.raises(ValueError, match="negative dimension"):
        exafold.empty([-1])
    with pytest.raises(ValueError, match="rank 9 exceeds"):
        exafold.empty([1] * 9)
