// graph/arena.cpp — memory plans by shape signature, their slots, and leases for concurrent runs.
#include "graph/arena.h"

#include <algorithm>

namespace tandem::graph {

namespace {
// How many shape signatures one plan keeps, like a bounded trace cache. (Concurrent runs with one
// signature each add an arena: the cache may briefly hold more, and trims when they are returned.)
constexpr size_t kMaxArenas = 4;
}  // namespace

void append_signature(std::vector<int64_t>& sig, size_t step, const Meta& meta, Device device) {
  sig.insert(sig.end(), {static_cast<int64_t>(step), static_cast<int64_t>(meta.dtype),
                         static_cast<int64_t>(device.type), device.index,
                         static_cast<int64_t>(meta.shape.size())});
  sig.insert(sig.end(), meta.shape.begin(), meta.shape.end());
}

std::vector<int64_t> signature_of(const std::vector<std::optional<ValueInfo>>& sources) {
  std::vector<int64_t> sig;
  for (size_t i = 0; i < sources.size(); ++i)
    if (sources[i]) append_signature(sig, i, sources[i]->meta, sources[i]->device);
  return sig;
}

std::optional<Tensor> Arena::slot_for(size_t i, const Meta& meta, const Tensor& overwritten) {
  const int k = memory.slot_of_step[i];
  if (k < 0) return std::nullopt;
  std::shared_ptr<Storage>& slot = slots[k];
  const bool only_input_holds_it =
      slot.use_count() == 2 && overwritten.defined() && overwritten.storage() == slot;
  if (!slot || (slot.use_count() > 1 && !only_input_holds_it))
    slot = std::make_shared<Storage>(memory.slot_bytes[k], memory.slot_devices[k]);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = slot;
  impl->shape = meta.shape;
  impl->strides = contiguous_strides(meta.shape);
  impl->dtype = meta.dtype;
  return Tensor(std::move(impl));
}

int64_t Arena::kept_bytes(Device::Type type) const {
  int64_t bytes = 0;
  for (const auto& slot : slots)
    if (slot && slot.use_count() == 1 && slot->device().type == type) bytes += static_cast<int64_t>(slot->nbytes());
  return bytes;
}

ArenaCache::Lease ArenaCache::lease(const Plan& plan, const std::vector<int64_t>& sig,
                                    const std::function<std::vector<std::optional<ValueInfo>>()>& sources) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t k = 0; k < arenas_.size(); ++k)
      if (!arenas_[k]->leased && arenas_[k]->signature == sig) {
        std::rotate(arenas_.begin(), arenas_.begin() + static_cast<std::ptrdiff_t>(k),
                    arenas_.begin() + static_cast<std::ptrdiff_t>(k) + 1);  // most recent first
        arenas_.front()->leased = true;
        return Lease(this, arenas_.front());
      }
  }
  // Planning runs outside the lock: it is the slow part, and it reads only the plan.
  auto arena = std::make_shared<Arena>();
  try {
    arena->memory = plan_memory(plan, sources());
  } catch (const Error&) {
    return Lease();
  }
  arena->signature = sig;
  arena->slots.resize(arena->memory.slot_bytes.size());
  arena->leased = true;
  std::lock_guard<std::mutex> lock(mutex_);
  arenas_.insert(arenas_.begin(), arena);
  return Lease(this, arena);
}

ArenaCache::Lease::~Lease() {
  if (!cache_ || !arena_) return;
  std::lock_guard<std::mutex> lock(cache_->mutex_);
  arena_->leased = false;
  auto& all = cache_->arenas_;
  while (all.size() > kMaxArenas) {  // drop the least recently used arena that nobody holds
    auto it = std::find_if(all.rbegin(), all.rend(), [](const auto& a) { return !a->leased; });
    if (it == all.rend()) break;
    all.erase(std::next(it).base());
  }
}

}  // namespace tandem::graph
