// A blocking Unix-socket stream for Beast's synchronous algorithms (SyncReadStream/SyncWriteStream),
// with timeouts that actually fire.
//
// Why not boost::asio::local::stream_protocol::socket: its synchronous read_some treats EAGAIN
// from an SO_RCVTIMEO expiry as "not ready yet" and retries with poll(-1) (socket_ops::sync_recv),
// so a kernel receive timeout never reaches the caller. Here the descriptor is non-blocking and
// every wait is a poll() with the remaining time, which also lets another thread wake a blocked
// read or write with shutdown(2).
#pragma once

#include <sys/uio.h>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <cstddef>
#include <optional>

namespace recall {

class FdStream {
 public:
  using Clock = std::chrono::steady_clock;

  FdStream() = default;
  // Takes ownership of fd and makes it non-blocking.
  explicit FdStream(int fd);
  ~FdStream();
  FdStream(FdStream&& other) noexcept;
  FdStream& operator=(FdStream&& other) noexcept;
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;

  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void close();

  // A read fails with boost::asio::error::timed_out once `deadline` has passed (nullopt: never) or
  // when no byte arrived for `idle` (zero: no limit), whichever comes first.
  void set_read_deadline(std::optional<Clock::time_point> deadline) { read_deadline_ = deadline; }
  void set_read_idle_timeout(std::chrono::milliseconds idle) { read_idle_ = idle; }
  // A write fails with timed_out when the peer accepted no byte for this long (zero: no limit).
  void set_write_timeout(std::chrono::milliseconds timeout) { write_timeout_ = timeout; }

  // True when the peer has closed its end or sent something unasked: an idle keep-alive connection
  // that is no longer usable. Does not block.
  bool peer_closed() const;

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    iovec iov[kMaxIov];
    int n = to_iovec(buffers, iov);
    return readv_some(iov, n, ec);
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    iovec iov[kMaxIov];
    int n = to_iovec(buffers, iov);
    return writev_some(iov, n, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  static constexpr int kMaxIov = 64;

  template <class BufferSequence>
  static int to_iovec(const BufferSequence& buffers, iovec* iov) {
    int n = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && n < kMaxIov; ++it) {
      auto b = *it;  // mutable_buffer or const_buffer
      if (b.size() == 0) continue;
      iov[n].iov_base = const_cast<void*>(static_cast<const void*>(b.data()));
      iov[n].iov_len = b.size();
      ++n;
    }
    return n;
  }

  std::size_t readv_some(iovec* iov, int count, boost::system::error_code& ec);
  std::size_t writev_some(const iovec* iov, int count, boost::system::error_code& ec);
  // Waits for `events`; returns false with ec set on timeout or poll failure.
  bool wait(short events, std::optional<Clock::time_point> until, boost::system::error_code& ec) const;

  int fd_ = -1;
  std::optional<Clock::time_point> read_deadline_;
  std::chrono::milliseconds read_idle_{0};
  std::chrono::milliseconds write_timeout_{0};
};

}  // namespace recall
