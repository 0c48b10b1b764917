// Processes that hold many descriptors (recalld's staged copies, recall-fs's open files) raise
// their soft limit to the hard limit at start.
#pragma once

#include <sys/resource.h>

#include <cstdint>

namespace recall {

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the limit now in force.
inline std::uint64_t raise_fd_limit() {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0) return 1024;
  if (l.rlim_cur < l.rlim_max) {
    rlimit raised{l.rlim_max, l.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) l = raised;
  }
  return l.rlim_cur == RLIM_INFINITY ? UINT64_MAX : static_cast<std::uint64_t>(l.rlim_cur);
}

}  // namespace recall
