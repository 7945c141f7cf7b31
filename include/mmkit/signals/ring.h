// Growable FIFO ring buffer for the rolling windows of the signals: push_back / pop_front in O(1),
// capacity doubles when full and is never released, so a window of bounded size allocates
// nothing per update once it has reached its largest size (unlike std::deque, which allocates
// and frees blocks as it moves). Not thread-safe.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace mmkit::signals {

template <class T>
class Ring {
 public:
  explicit Ring(std::size_t initial_capacity = 16)
      : buf_(initial_capacity < 1 ? 1 : initial_capacity) {}

  void push_back(const T& v) {
    if (size_ == buf_.size()) grow();
    buf_[(head_ + size_) % buf_.size()] = v;
    ++size_;
  }
  /// Precondition: !empty().
  void pop_front() noexcept {
    head_ = (head_ + 1) % buf_.size();
    --size_;
  }
  /// i-th element from the oldest (0) to the newest (size() − 1). Precondition: i < size().
  [[nodiscard]] T& operator[](std::size_t i) noexcept { return buf_[(head_ + i) % buf_.size()]; }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept {
    return buf_[(head_ + i) % buf_.size()];
  }
  [[nodiscard]] T& front() noexcept { return buf_[head_]; }
  [[nodiscard]] const T& front() const noexcept { return buf_[head_]; }
  [[nodiscard]] T& back() noexcept { return (*this)[size_ - 1]; }
  [[nodiscard]] const T& back() const noexcept { return (*this)[size_ - 1]; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return buf_.size(); }
  /// Empties the buffer, keeping its capacity.
  void clear() noexcept {
    head_ = 0;
    size_ = 0;
  }

 private:
  void grow() {
    std::vector<T> next(buf_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
    buf_.swap(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mmkit::signals
