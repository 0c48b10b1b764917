// The complete tree of one point as an importer of another tool's backups builds it in memory
// (a tar archive, a chain of incremental archives), and the step that records it as the host's
// next point: a forward merge against the previous point, so unchanged versions stay valid,
// changed ones get a new version and what is gone ends its validity.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalogd/store/catalog_writer.h"
#include "common/file_meta.h"
#include "importers/import_progress.h"

namespace recall::import {

// What an importer knows of a directory's whole subtree, so that the next point can take the
// subtree over unread when its source says it did not change (restic: the same tree ID).
struct SubtreeSummary {
  Digest source_id{};  // the source's ID of the subtree
  std::uint64_t entries = 0, files = 0, bytes = 0, unavailable = 0;
  bool reusable = true;  // false: it holds a hard-linked file, whose link count depends on the rest
};

struct ImageNode {
  FileMeta meta;
  std::int64_t content_id = 0;                                 // regular files
  std::map<std::string, std::unique_ptr<ImageNode>> children;  // directories
  std::unique_ptr<SubtreeSummary> summary;                     // directories, where known
  // The subtree below is exactly the previous point's (the importer took it over): write_image
  // records this directory's own version and keeps everything below without walking it.
  bool same_below = false;
};

class TreeImage {
 public:
  TreeImage();
  ImageNode& root() { return *root_; }
  const ImageNode& root() const { return *root_; }

  // The node at `parts` (components below the root), or null.
  ImageNode* find(const std::vector<std::string>& parts);
  // The directory at `parts`, created with `implied` (and so are missing ancestors) if absent.
  // Invalid when an ancestor is not a directory: a member below a symlink or a file.
  Result<ImageNode*> ensure_dir(const std::vector<std::string>& parts, const FileMeta& implied);
  // Puts `node` at `parts`, replacing what was there (a directory with its subtree).
  Result<ImageNode*> put(const std::vector<std::string>& parts, std::unique_ptr<ImageNode> node,
                         const FileMeta& implied_dirs);
  // Detaches the subtree at `parts` (null if absent).
  std::unique_ptr<ImageNode> take(const std::vector<std::string>& parts);
  // A deep copy (a differential point starts from its parent's state, which others share).
  TreeImage clone() const;
  // Calls f(node) for every node, parents before children.
  template <class F>
  void each(const F& f) {
    std::vector<ImageNode*> stack{root_.get()};
    while (!stack.empty()) {
      ImageNode* n = stack.back();
      stack.pop_back();
      f(*n);
      for (auto& [name, c] : n->children) stack.push_back(c.get());
    }
  }
  // Sets nlink of every regular file to the number of paths sharing its inode.
  void count_links();
  std::uint64_t size() const;

 private:
  std::unique_ptr<ImageNode> root_;
};

// The host's newest point as an image (content ids and metadata as the catalog has them), to
// apply an incremental archive to.
Result<TreeImage> load_previous_point(store::PointWriter& writer);
// The versions open in the writer's transaction as an image: the previous point before the
// import has changed anything, the new point once it has.
Result<TreeImage> load_open_image(store::PointWriter& writer);

struct ImageWriteStats {
  std::uint64_t entries = 0, changed = 0, unchanged = 0, deleted = 0;
};

// Records `image` as the writer's point: versions whose metadata and content are the same as in
// the previous point stay valid; others are closed and replaced; paths not in the image end.
Result<ImageWriteStats> write_image(store::PointWriter& writer, const TreeImage& image,
                                    ImportProgress& progress);

// The catalog id of a chunk whose plain bytes lie at `offset` of archive volume `volume`: a new
// chunk (`*fresh`), or one more copy of a known one, so that a reader finding one copy damaged
// or gone reads another.
Result<std::int64_t> reference_in_place(store::PointWriter& writer, const Digest& sha, std::uint32_t size,
                                        std::int64_t volume, std::uint64_t offset, bool* fresh);

// Splits a member name from another tool into components below `/`: leading `/` and `./` are
// dropped (`*absolute` says whether there was one), `.` and empty components skipped. Invalid for
// `..`, a component over 255 bytes or a name over 4096 bytes: such an archive is refused.
Result<std::vector<std::string>> member_parts(std::string_view name, bool* absolute);

}  // namespace recall::import
