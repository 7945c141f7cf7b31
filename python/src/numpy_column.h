// Internal header of the nanobind module (not installed): hands a C++ vector to NumPy without
// copying it. The vector is moved into a heap object owned by a capsule, so the returned array
// is a zero-copy view that keeps the data alive for as long as Python references it.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <vector>

namespace mmkit::python {

/// 1-D NumPy array of dtype T over the moved vector (zero-copy).
template <class T>
nanobind::ndarray<nanobind::numpy, T, nanobind::ndim<1>> column(std::vector<T>&& v) {
  auto* owned = new std::vector<T>(std::move(v));
  nanobind::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  const std::size_t shape[1] = {owned->size()};
  return nanobind::ndarray<nanobind::numpy, T, nanobind::ndim<1>>(owned->data(), 1, shape, owner);
}

}  // namespace mmkit::python
