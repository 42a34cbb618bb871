// Large arrays of one pass, reused across passes.
//
// A training step allocates the tape (the memory of every step: tens of MB at batch 64) and
// the backward pass's gradient arrays afresh; freshly mapped pages cost a page fault each,
// which was a tenth of a forward pass. The workspace keeps the blocks it handed out and hands
// a block out again once nothing else holds its storage (in a training loop: once the
// previous step's backward pass is done and autograd has released the tape).
#pragma once

#include <torch/extension.h>

#include <mutex>
#include <vector>

namespace ntmkit {

class Workspace {
 public:
  // A tensor of `shape`, zero-filled if asked, from a free block with room for it.
  at::Tensor take(at::IntArrayRef shape, const at::TensorOptions& options, bool zeros) {
    int64_t numel = 1;
    for (int64_t size : shape) numel *= size;
    at::Tensor out;
    {
      std::lock_guard<std::mutex> guard(lock_);
      for (const at::Tensor& block : blocks_) {
        // The block's own reference is the only one: no tensor handed out from it is alive.
        if (block.dtype() == options.dtype() && block.numel() >= numel &&
            block.storage().use_count() == 1) {
          out = block.narrow(0, 0, numel).view(shape);
          break;
        }
      }
      if (!out.defined()) {
        if (blocks_.size() >= kBlocks) evict_one();
        blocks_.push_back(at::empty({capacity(numel)}, options));
        out = blocks_.back().narrow(0, 0, numel).view(shape);
      }
    }
    if (zeros) out.zero_();
    return out;
  }

 private:
  static constexpr size_t kBlocks = 48;

  // Room to grow: the next power of two, so that sequences of varying length reuse blocks.
  static int64_t capacity(int64_t numel) {
    int64_t room = 1024;
    while (room < numel) room *= 2;
    return room;
  }

  void evict_one() {
    for (auto it = blocks_.begin(); it != blocks_.end(); ++it) {
      if (it->storage().use_count() == 1) {
        blocks_.erase(it);
        return;
      }
    }
    blocks_.erase(blocks_.begin());  // all in use: forget the oldest (its users keep it alive)
  }

  std::mutex lock_;
  std::vector<at::Tensor> blocks_;
};

inline Workspace& workspace() {
  static Workspace shared;
  return shared;
}

}  // namespace ntmkit
