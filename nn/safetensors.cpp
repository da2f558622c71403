// safetensors reading (validating) and writing (reference-identical bytes).
#include "nn/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/fileio.h"
#include "core/json.h"

namespace vt::nn {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's limit

struct DType {
  const char* name;
  int bytes;
};
const DType kDTypes[] = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"U8", 1}};

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3FF) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7F800000u | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct Entry {
  std::string name;
  const DType* dtype;
  Shape shape;
  uint64_t begin, end;
};

// The errors of one file: "<path>: not a valid safetensors file: <what>".
struct Invalid {
  const std::string& path;
  Error operator()(const std::string& what) const {
    return Error(str_cat(path, ": not a valid safetensors file: ", what));
  }
};

// The 8-byte length, then the JSON header; returns the header, and the data section's offset.
Json parse_header(const std::string& bytes, const Invalid& fail, uint64_t& data_begin) {
  if (bytes.size() < 8)
    throw fail(str_cat("the file has ", bytes.size(), " bytes, fewer than the 8-byte header length"));
  const uint64_t header_len = read_u64_le(reinterpret_cast<const unsigned char*>(bytes.data()));
  if (header_len > bytes.size() - 8)
    throw fail(
        str_cat("header length ", header_len, " is larger than the rest of the file (", bytes.size() - 8, " bytes)"));
  if (header_len > kMaxHeaderBytes) throw fail(str_cat("header length ", header_len, " exceeds the 100 MB limit"));
  const std::string header = bytes.substr(8, header_len);
  if (header.empty() || header[0] != '{') throw fail("the header does not start with '{'");
  Json root;
  try {
    root = Json::parse(header);
  } catch (const Error& e) {
    throw fail(str_cat("header is not valid JSON (", e.what(), ")"));
  }
  if (!root.is_object()) throw fail("the header is not a JSON object");
  data_begin = 8 + header_len;
  return root;
}

// One tensor's header entry: its dtype, shape and byte range, checked against each other and
// against the `data_size` bytes of the data section.
Entry parse_entry(const std::string& name, const Json& info, uint64_t data_size, const Invalid& fail) {
  if (!info.is_object()) throw fail(str_cat("entry '", name, "' is not an object"));
  const Json* dt = info.find("dtype");
  const Json* sh = info.find("shape");
  const Json* off = info.find("data_offsets");
  if (!dt || !sh || !off) throw fail(str_cat("entry '", name, "' needs dtype, shape and data_offsets"));
  if (info.size() != 3) throw fail(str_cat("entry '", name, "' has keys other than dtype, shape and data_offsets"));
  if (!dt->is_string()) throw fail(str_cat("entry '", name, "': dtype is not a string"));
  const DType* dtype = nullptr;
  for (const DType& d : kDTypes)
    if (dt->as_string() == d.name) dtype = &d;
  if (!dtype)
    throw fail(str_cat("entry '", name, "': dtype ", dt->as_string(), " is not supported (F32, F16, BF16, F64, U8)"));
  if (!sh->is_array()) throw fail(str_cat("entry '", name, "': shape is not an array"));
  Entry e{name, dtype, {}, 0, 0};
  uint64_t numel = 1;
  for (const Json& d : sh->items()) {
    if (!d.is_integer() || d.as_int() < 0)
      throw fail(str_cat("entry '", name, "': shape holds a value that is not a non-negative integer"));
    const uint64_t v = static_cast<uint64_t>(d.as_int());
    if (v != 0 && numel > std::numeric_limits<uint64_t>::max() / 8 / v)
      throw fail(str_cat("entry '", name, "': the element count of shape ", sh->dump(), " overflows"));
    numel *= v;
    e.shape.push_back(static_cast<int64_t>(v));
  }
  if (!off->is_array() || off->size() != 2 || !off->items()[0].is_integer() || !off->items()[1].is_integer() ||
      off->items()[0].as_int() < 0 || off->items()[1].as_int() < 0)
    throw fail(str_cat("entry '", name, "': data_offsets must be two non-negative integers"));
  e.begin = static_cast<uint64_t>(off->items()[0].as_int());
  e.end = static_cast<uint64_t>(off->items()[1].as_int());
  if (e.begin > e.end || e.end > data_size)
    throw fail(str_cat("entry '", name, "': data_offsets [", e.begin, ", ", e.end, "] lie outside the ", data_size,
                       "-byte data section (the file may be truncated)"));
  if (e.end - e.begin != numel * dtype->bytes)
    throw fail(str_cat("entry '", name, "': shape ", shape_str(e.shape), " of ", dtype->name, " needs ",
                       numel * dtype->bytes, " bytes but data_offsets span ", e.end - e.begin));
  return e;
}

// The data section must be covered exactly once: no overlaps, no holes. Sorts `entries` by offset.
void check_coverage(std::vector<Entry>& entries, uint64_t data_size, const Invalid& fail) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t cursor = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.begin < cursor)
      throw fail(str_cat("entries '", entries[i - 1].name, "' and '", e.name, "' overlap in the data section"));
    if (e.begin > cursor)
      throw fail(str_cat("bytes [", cursor, ", ", e.begin, ") of the data section belong to no tensor"));
    cursor = e.end;
  }
  if (cursor != data_size)
    throw fail(str_cat("bytes [", cursor, ", ", data_size, ") of the data section belong to no tensor"));
}

// The entry's bytes as float32 (converted from F16, BF16, F64 or U8).
Tensor decode(const Entry& e, const unsigned char* data) {
  Tensor t = empty(e.shape);
  float* out = t.data();
  const unsigned char* src = data + e.begin;
  const int64_t n = t.numel();
  const std::string dtype = e.dtype->name;
  if (dtype == "F32") {
    std::memcpy(out, src, sizeof(float) * n);  // little-endian host (x86-64, aarch64)
  } else if (dtype == "U8") {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(src[i]);
  } else if (dtype == "F64") {
    for (int64_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + 8 * i, 8);
      out[i] = static_cast<float>(d);
    }
  } else {
    const bool bf16 = dtype == "BF16";
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t h = static_cast<uint16_t>(src[2 * i] | (src[2 * i + 1] << 8));
      out[i] = bf16 ? bf16_to_float(h) : half_to_float(h);
    }
  }
  return t;
}

}  // namespace

const Tensor* SafetensorsFile::find(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& path) {
  const Invalid fail{path};
  uint64_t data_begin = 0;
  const Json root = parse_header(bytes, fail, data_begin);
  const uint64_t data_size = bytes.size() - data_begin;
  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [name, info] : root.members()) {
    if (name != "__metadata__") {
      entries.push_back(parse_entry(name, info, data_size, fail));
      continue;
    }
    if (!info.is_object()) throw fail("__metadata__ is not an object");
    for (const auto& [k, v] : info.members()) {
      if (!v.is_string()) throw fail(str_cat("__metadata__ value of '", k, "' is not a string"));
      file.metadata[k] = v.as_string();
    }
  }
  check_coverage(entries, data_size, fail);
  const unsigned char* data = reinterpret_cast<const unsigned char*>(bytes.data()) + data_begin;
  for (const Entry& e : entries) {
    file.tensors.push_back({e.name, decode(e, data)});
    file.dtypes.push_back(e.dtype->name);
  }
  return file;
}

SafetensorsFile load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

std::string serialize_safetensors(const Parameters& tensors, const std::map<std::string, std::string>& metadata) {
  std::vector<const NamedTensor*> order;
  for (const NamedTensor& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const NamedTensor* a, const NamedTensor* b) { return a->name < b->name; });
  for (size_t i = 1; i < order.size(); ++i)
    VT_CHECK(order[i - 1]->name != order[i]->name, "safetensors: duplicate tensor name '", order[i]->name, "'");
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [k, v] : metadata) meta.set(k, Json(v));
    header.set("__metadata__", meta);
  }
  uint64_t offset = 0;
  for (const NamedTensor* t : order) {
    VT_CHECK(t->name != "__metadata__" && valid_utf8(t->name), "safetensors: invalid tensor name '", t->name, "'");
    Json entry = Json::object();
    entry.set("dtype", Json("F32"));
    Json shape = Json::array();
    for (int64_t d : t->tensor.shape()) shape.push(Json(d));
    entry.set("shape", shape);
    const uint64_t bytes = 4 * static_cast<uint64_t>(t->tensor.numel());
    Json offsets = Json::array();
    offsets.push(Json(static_cast<int64_t>(offset)));
    offsets.push(Json(static_cast<int64_t>(offset + bytes)));
    entry.set("data_offsets", offsets);
    header.set(t->name, entry);
    offset += bytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += json;
  out.reserve(out.size() + offset);
  for (const NamedTensor* t : order)
    out.append(reinterpret_cast<const char*>(t->tensor.data()), 4 * static_cast<size_t>(t->tensor.numel()));
  return out;
}

void save_safetensors(const std::string& path, const Parameters& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

LoadReport load_into(const Parameters& params, const SafetensorsFile& file, bool strict,
                     const std::vector<std::string>& skip) {
  LoadReport r;
  auto skipped = [&](const std::string& n) { return std::find(skip.begin(), skip.end(), n) != skip.end(); };
  for (const NamedTensor& p : params) {
    if (skipped(p.name)) continue;
    const Tensor* t = file.find(p.name);
    if (!t) {
      r.missing.push_back(p.name);
    } else if (t->shape() != p.tensor.shape()) {
      r.mismatched.push_back(
          str_cat(p.name, ": file ", shape_str(t->shape()), " vs model ", shape_str(p.tensor.shape())));
    }
  }
  for (const NamedTensor& t : file.tensors) {
    if (skipped(t.name)) continue;
    bool known = false;
    for (const NamedTensor& p : params) known = known || p.name == t.name;
    if (!known) r.unexpected.push_back(t.name);
  }
  std::string problems;
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    problems += str_cat(problems.empty() ? "" : "; ", what, " (", names.size(), "): ");
    for (size_t i = 0; i < names.size() && i < 8; ++i) problems += (i ? ", " : "") + names[i];
    if (names.size() > 8) problems += ", ...";
  };
  list("missing", r.missing);
  list("shape mismatch", r.mismatched);
  if (strict) list("unexpected", r.unexpected);
  if (!problems.empty()) throw Error(str_cat("cannot load weights: ", problems));
  for (const NamedTensor& p : params) {
    if (skipped(p.name)) continue;
    const Tensor* t = file.find(p.name);
    Tensor dst = p.tensor;
    std::memcpy(dst.data(), t->data(), sizeof(float) * t->numel());
    r.loaded.push_back(p.name);
  }
  return r;
}

}  // namespace vt::nn
