#include "importers/tree_image.h"

#include <unordered_map>

#include "common/paths.h"

namespace recall::import {

TreeImage::TreeImage() : root_(std::make_unique<ImageNode>()) {
  root_->meta.type = FileType::Directory;
  root_->meta.mode = 0755;
}

namespace {

std::unique_ptr<ImageNode> copy_node(const ImageNode& n) {
  auto out = std::make_unique<ImageNode>();
  out->meta = n.meta;
  out->content_id = n.content_id;
  if (n.summary) out->summary = std::make_unique<SubtreeSummary>(*n.summary);
  out->same_below = n.same_below;
  for (const auto& [name, child] : n.children) out->children.emplace(name, copy_node(*child));
  return out;
}

}  // namespace

TreeImage TreeImage::clone() const {
  TreeImage t;
  t.root_ = copy_node(*root_);
  return t;
}

ImageNode* TreeImage::find(const std::vector<std::string>& parts) {
  ImageNode* n = root_.get();
  for (const auto& p : parts) {
    auto it = n->children.find(p);
    if (it == n->children.end()) return nullptr;
    n = it->second.get();
  }
  return n;
}

Result<ImageNode*> TreeImage::ensure_dir(const std::vector<std::string>& parts, const FileMeta& implied) {
  ImageNode* n = root_.get();
  std::string so_far;
  for (const auto& p : parts) {
    so_far += "/" + p;
    if (!is_dir(n->meta))
      return make_error(ErrorKind::Invalid, "'" + so_far + "' lies below something that is not a directory");
    auto& slot = n->children[p];
    if (!slot) {
      slot = std::make_unique<ImageNode>();
      slot->meta = implied;
    }
    n = slot.get();
  }
  if (!is_dir(n->meta))
    return make_error(ErrorKind::Invalid, "'" + (so_far.empty() ? "/" : so_far) + "' is not a directory");
  return n;
}

Result<ImageNode*> TreeImage::put(const std::vector<std::string>& parts, std::unique_ptr<ImageNode> node,
                                  const FileMeta& implied_dirs) {
  if (parts.empty()) {
    node->children = std::move(root_->children);
    root_ = std::move(node);
    return root_.get();
  }
  auto parent = ensure_dir({parts.begin(), parts.end() - 1}, implied_dirs);
  if (!parent.ok()) return parent.error();
  auto& slot = (*parent)->children[parts.back()];
  slot = std::move(node);
  return slot.get();
}

std::unique_ptr<ImageNode> TreeImage::take(const std::vector<std::string>& parts) {
  if (parts.empty()) return nullptr;
  ImageNode* parent = find({parts.begin(), parts.end() - 1});
  if (!parent) return nullptr;
  auto it = parent->children.find(parts.back());
  if (it == parent->children.end()) return nullptr;
  auto out = std::move(it->second);
  parent->children.erase(it);
  return out;
}

namespace {

template <typename F>
void each_node(ImageNode& n, const F& f) {
  f(n);
  for (auto& [name, c] : n.children) each_node(*c, f);
}

}  // namespace

void TreeImage::count_links() {
  std::unordered_map<std::uint64_t, std::uint32_t> links;
  each_node(*root_, [&](ImageNode& n) {
    if (n.meta.type == FileType::Regular) links[n.meta.ino]++;
  });
  each_node(*root_, [&](ImageNode& n) {
    if (n.meta.type == FileType::Regular) n.meta.nlink = links[n.meta.ino];
  });
}

std::uint64_t TreeImage::size() const {
  std::uint64_t count = 0;
  each_node(*root_, [&](ImageNode&) { count++; });
  return count;
}

namespace {

// Walks the open (current) directories of the point being written, depth first from the root.
// `visit(item, open_children, descend)` gets one directory's open children by name and calls
// `descend(node, item)` for each subdirectory to walk next. One walk shape for loading the
// previous point and for merging an image into it.
template <class Item, class Visit>
Status walk_catalog_dirs(store::PointWriter& writer, Item root, Visit visit) {
  std::vector<std::pair<std::int64_t, Item>> stack{{writer.root_node(), root}};
  while (!stack.empty()) {
    auto [node, item] = stack.back();
    stack.pop_back();
    auto children = writer.open_children(node);
    if (!children.ok()) return children.error();
    RECALL_TRY(visit(item, *children, [&](std::int64_t n, Item i) { stack.emplace_back(n, i); }));
  }
  return {};
}

}  // namespace

Result<TreeImage> load_previous_point(store::PointWriter& writer) {
  if (writer.first_point()) return TreeImage();
  return load_open_image(writer);
}

Result<TreeImage> load_open_image(store::PointWriter& writer) {
  TreeImage image;
  auto root = writer.open_version(writer.root_node());
  if (!root.ok()) return root.error();
  if (!*root) return image;
  image.root().meta = (*root)->meta;
  RECALL_TRY(walk_catalog_dirs<ImageNode*>(writer, &image.root(),
                                           [](ImageNode* into, auto& children, auto&& descend) -> Status {
                                             for (auto& [name, v] : children) {
                                               auto n = std::make_unique<ImageNode>();
                                               n->meta = std::move(v.meta);
                                               n->content_id = v.content_id;
                                               if (is_dir(n->meta)) descend(v.node_id, n.get());
                                               into->children.emplace(name, std::move(n));
                                             }
                                             return {};
                                           }));
  return image;
}

namespace {

// Same version for the catalog: everything recorded but the inode, which importers of other
// tools' archives make up per import. Hard-linked files are always recorded anew, since their
// links share the inode of this import.
bool same_version(const store::VersionRow& prev, const ImageNode& n) {
  if (prev.content_id != n.content_id) return false;
  if (n.meta.nlink > 1 || prev.meta.nlink > 1) return false;
  FileMeta a = prev.meta;
  a.ino = n.meta.ino;
  return a == n.meta;
}

}  // namespace

Result<ImageWriteStats> write_image(store::PointWriter& writer, const TreeImage& image,
                                    ImportProgress& progress) {
  ImageWriteStats st;
  auto record = [&](std::int64_t node, const std::optional<store::VersionRow>& prev,
                    const ImageNode& n) -> Result<bool> {  // true: the directory's children need a walk
    st.entries++;
    progress.entries++;
    if (prev && same_version(*prev, n)) {
      st.unchanged++;
      if (n.meta.type == FileType::Regular) progress.files_unchanged++;
      return is_dir(n.meta);
    }
    if (prev) {
      RECALL_TRY(writer.close_version(prev->id));
      if (is_dir(prev->meta) && !is_dir(n.meta)) RECALL_TRY(writer.close_subtree(node));
    }
    auto v = writer.add_version(node, n.meta, n.content_id);
    if (!v.ok()) return v.error();
    st.changed++;
    progress.entries_changed++;
    return is_dir(n.meta);
  };
  auto root_prev = writer.open_version(writer.root_node());
  if (!root_prev.ok()) return root_prev.error();
  if (auto r = record(writer.root_node(), *root_prev, image.root()); !r.ok()) return r.error();

  struct Dir {
    std::int64_t node;
    const ImageNode* image;
  };
  RECALL_TRY(walk_catalog_dirs<Dir>(
      writer, {writer.root_node(), &image.root()},
      [&](Dir dir, auto& prev_children, auto&& descend) -> Status {
        for (const auto& [name, child] : dir.image->children) {
          std::optional<store::VersionRow> prev;
          if (auto it = prev_children.find(name); it != prev_children.end()) {
            prev = std::move(it->second);
            prev_children.erase(it);
          }
          std::int64_t node;
          if (prev) {
            node = prev->node_id;
          } else {
            auto c = writer.child_node(dir.node, name);
            if (!c.ok()) return c.error();
            node = *c;
          }
          auto walk = record(node, prev, *child);
          if (!walk.ok()) return walk.error();
          if (*walk && child->same_below && prev && is_dir(prev->meta)) {
            const std::uint64_t below = child->summary ? child->summary->entries : 0;
            st.entries += below;
            st.unchanged += below;
            progress.entries += below;
          } else if (*walk) {
            descend(node, Dir{node, child.get()});
          }
        }
        for (const auto& [name, v] : prev_children) {  // in the previous point, not in this one
          RECALL_TRY(writer.close_version(v.id));
          if (is_dir(v.meta)) RECALL_TRY(writer.close_subtree(v.node_id));
          st.deleted++;
          progress.entries_deleted++;
        }
        return {};
      }));
  return st;
}

Result<std::int64_t> reference_in_place(store::PointWriter& writer, const Digest& sha, std::uint32_t size,
                                        std::int64_t volume, std::uint64_t offset, bool* fresh) {
  auto id = writer.intern_chunk(sha, size, fresh);
  if (!id.ok()) return id.error();
  RECALL_TRY(writer.add_location(*id, volume, offset, size, store::kCodecArchivePlain));
  return *id;
}

Result<std::vector<std::string>> member_parts(std::string_view name, bool* absolute) {
  if (name.size() > 4096)
    return make_error(ErrorKind::Invalid,
                      "a member name of " + std::to_string(name.size()) + " bytes (over 4096)");
  std::vector<std::string> parts;
  if (absolute) *absolute = !name.empty() && name.front() == '/';
  std::size_t i = 0;
  while (i <= name.size()) {
    std::size_t j = name.find('/', i);
    if (j == std::string_view::npos) j = name.size();
    std::string_view c = name.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..")
      return make_error(ErrorKind::Invalid,
                        "member '" + escape_for_display(std::string(name)) + "' has a '..' component");
    if (c.size() > 255)
      return make_error(ErrorKind::Invalid, "member '" + escape_for_display(std::string(name.substr(0, 80))) +
                                                "...' has a component over 255 bytes");
    parts.emplace_back(c);
  }
  return parts;
}

}  // namespace recall::import
