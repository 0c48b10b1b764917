#include "restic/tree_loader.h"

namespace recall::restic {

TreeLoader::TreeLoader(const Repository& repo, int threads, std::size_t max_nodes)
    : repo_(repo), max_nodes_(max_nodes) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

TreeLoader::~TreeLoader() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void TreeLoader::ahead(const std::vector<Digest>& ids) {
  if (threads_.empty()) return;
  {
    std::lock_guard lk(mu_);
    for (auto it = ids.rbegin(); it != ids.rend(); ++it)
      if (entries_.emplace(*it, Entry{}).second) stack_.push_back(*it);
  }
  work_cv_.notify_all();
}

void TreeLoader::finish(const Digest& id, Result<std::vector<Node>> loaded) {
  if (nodes_ > max_nodes_) {  // forget what is loaded; what is being loaded stays
    for (auto it = entries_.begin(); it != entries_.end();)
      it = it->second.state == State::Done ? entries_.erase(it) : std::next(it);
    nodes_ = 0;
  }
  Entry& e = entries_[id];
  e.state = State::Done;
  if (loaded.ok()) {
    nodes_ += loaded->size();
    e.tree = std::make_shared<const std::vector<Node>>(std::move(*loaded));
  } else {
    e.error = loaded.error();
  }
  done_cv_.notify_all();
}

Result<Tree> TreeLoader::get(const Digest& id) {
  std::unique_lock lk(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.state == State::Loading) {
    done_cv_.wait(lk, [&] {
      it = entries_.find(id);
      return it == entries_.end() || it->second.state == State::Done;
    });
  }
  if (it != entries_.end() && it->second.state == State::Done) {
    if (it->second.error) return *it->second.error;
    return it->second.tree;
  }
  entries_[id].state = State::Loading;  // queued or unknown: load it here
  lk.unlock();
  auto loaded = repo_.load_tree(id);
  lk.lock();
  finish(id, std::move(loaded));
  const Entry& e = entries_[id];
  if (e.error) return *e.error;
  return e.tree;
}

void TreeLoader::work() {
  std::unique_lock lk(mu_);
  for (;;) {
    work_cv_.wait(lk, [&] { return stop_ || !stack_.empty(); });
    if (stop_) return;
    const Digest id = stack_.back();
    stack_.pop_back();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.state != State::Queued) continue;
    it->second.state = State::Loading;
    lk.unlock();
    auto loaded = repo_.load_tree(id);
    lk.lock();
    finish(id, std::move(loaded));
  }
}

}  // namespace recall::restic
