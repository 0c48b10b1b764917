// Tree blobs loaded ahead of a walk on worker threads (decrypting, decompressing and parsing a
// tree costs more than anything the walk does with it), and kept for the next snapshots, which
// share most of their trees.
//
// The walker names the trees it will visit next (ahead()); workers take the most recently named
// first, so a depth-first walk finds its next tree loaded or being loaded. get() never waits for
// a tree nobody is loading: it loads such a tree itself.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "restic/repository.h"

namespace recall::restic {

using Tree = std::shared_ptr<const std::vector<Node>>;

class TreeLoader {
 public:
  // `repo` must have its index loaded and outlive the loader. Loaded trees are kept until they
  // hold `max_nodes` nodes in all, then forgotten together.
  TreeLoader(const Repository& repo, int threads, std::size_t max_nodes);
  ~TreeLoader();
  TreeLoader(const TreeLoader&) = delete;
  TreeLoader& operator=(const TreeLoader&) = delete;

  // Trees the walk will need soon, in the order it will need them.
  void ahead(const std::vector<Digest>& ids);
  // The tree: kept, loaded by a worker (waits for it), or loaded here.
  Result<Tree> get(const Digest& id);

 private:
  enum class State { Queued, Loading, Done };
  struct Entry {
    State state = State::Queued;
    Tree tree;
    std::optional<Error> error;
  };
  void work();
  void finish(const Digest& id, Result<std::vector<Node>> loaded);  // with mu_ held

  const Repository& repo_;
  const std::size_t max_nodes_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::unordered_map<Digest, Entry, DigestHash> entries_;
  std::vector<Digest> stack_;  // named by ahead(), the last one first
  std::size_t nodes_ = 0;      // in loaded trees
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace recall::restic
