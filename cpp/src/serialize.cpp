#include "eigennet/serialize.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "eigennet/errors.hpp"
#include "eigennet/registry.hpp"

namespace eigennet {

std::string Rng::serialize() const {
  char buf[160];
  std::uint64_t spare_bits;
  std::memcpy(&spare_bits, &spare_normal_, sizeof spare_bits);
  std::snprintf(buf, sizeof buf, "%016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %d %016" PRIx64, state_[0],
                state_[1], state_[2], state_[3], has_spare_normal_ ? 1 : 0, spare_bits);
  return buf;
}

void Rng::deserialize(const std::string& text) {
  std::uint64_t s[4], spare_bits;
  int has_spare;
  char tail;
  if (std::sscanf(text.c_str(), "%" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %d %" SCNx64 " %c", &s[0], &s[1], &s[2],
                  &s[3], &has_spare, &spare_bits, &tail) != 6 ||
      (has_spare != 0 && has_spare != 1) || (s[0] | s[1] | s[2] | s[3]) == 0)
    throw FormatError("bad random state \"" + text + "\"");
  for (int i = 0; i < 4; ++i) state_[static_cast<std::size_t>(i)] = s[i];
  has_spare_normal_ = has_spare == 1;
  std::memcpy(&spare_normal_, &spare_bits, sizeof spare_bits);
}

namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

bool little_endian() {
  const std::uint16_t probe = 1;
  unsigned char first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

template <typename T>
const char* dtype_tag() {
  return std::is_same<T, float>::value ? "F32" : "F64";
}

struct TensorEntry {
  std::string name;
  const char* data;
  std::size_t bytes;
  std::vector<Index> shape;
};

std::vector<Index> tensor_shape(const ParamLocation& loc) {
  // A column-major rows x cols block has the bytes of a C-order (cols, rows) array. Biases are
  // 1-D; weights stay 2-D (n_in, n_out) even when n_in is 1.
  if (loc.is_bias) return {loc.rows * loc.cols};
  return {loc.cols, loc.rows};
}

Json shape_json(const std::vector<Index>& shape) {
  Json s = Json::array();
  for (Index d : shape) s.push_back(static_cast<long long>(d));
  return s;
}

void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written <= 0) throw std::runtime_error("could not write " + path + ": " + std::strerror(errno));
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

void write_atomically(const std::string& path, const std::string& header, const std::vector<TensorEntry>& tensors) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("could not create " + temporary + ": " + std::strerror(errno));
  try {
    std::uint64_t length = header.size();
    unsigned char prefix[8];
    for (int i = 0; i < 8; ++i) prefix[i] = static_cast<unsigned char>(length >> (8 * i));
    write_all(fd, reinterpret_cast<const char*>(prefix), 8, temporary);
    write_all(fd, header.data(), header.size(), temporary);
    for (const auto& t : tensors) write_all(fd, t.data, t.bytes, temporary);
    if (::fsync(fd) != 0) throw std::runtime_error("could not flush " + temporary + ": " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    throw std::runtime_error("could not replace " + path + ": " + reason);
  }
  // Make the rename itself durable.
  const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 if the bytes there are not one.
std::size_t utf8_length(const std::string& text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (c >= 0xc2 && c <= 0xdf) length = 2, code = c & 0x1fu;
  else if (c >= 0xe0 && c <= 0xef) length = 3, code = c & 0x0fu;
  else if (c >= 0xf0 && c <= 0xf4) length = 4, code = c & 0x07u;
  if (length == 0 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + k]);
    if ((next & 0xc0u) != 0x80u) return 0;
    code = (code << 6) | (next & 0x3fu);
  }
  const std::uint32_t smallest = length == 2 ? 0x80u : (length == 3 ? 0x800u : 0x10000u);
  if (code < smallest || code > 0x10ffffu || (code >= 0xd800u && code <= 0xdfffu)) return 0;
  return length;
}

bool valid_utf8(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// Error messages quote bytes from the file; keep them valid UTF-8 (Python decodes them) by
// escaping invalid sequences and control characters as \xNN.
std::string printable(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_length(text, i);
    if (length == 0 || c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
      ++i;
    } else {
      out.append(text, i, length);
      i += length;
    }
  }
  return out;
}

struct ParsedFile {
  Json header;          // tensor table without __metadata__
  Json metadata;        // the __metadata__ object (strings)
  std::string payload;  // the data section
};

// What to read: the header alone answers read_model_header and model_dtype (Python asks for the
// dtype before loading), so those need not read the data section too.
enum class Sections { HeaderOnly, All };

std::uint64_t header_length_of(const unsigned char* prefix, std::uint64_t total_size, const std::string& name) {
  std::uint64_t header_length = 0;
  for (int i = 0; i < 8; ++i) header_length |= static_cast<std::uint64_t>(prefix[i]) << (8 * i);
  if (header_length > kMaxHeaderBytes || header_length > total_size - 8)
    throw FormatError(name + ": header length " + std::to_string(header_length) + " does not fit the file of " +
                      std::to_string(total_size) + " bytes");
  return header_length;
}

// Validates the header text against a data section of payload_size bytes; the payload itself is
// filled in by the caller.
ParsedFile parse_header(const std::string& header_text, std::uint64_t payload_size, const std::string& path) {
  if (!valid_utf8(header_text)) throw FormatError(path + ": header is not valid UTF-8");
  ParsedFile parsed;
  Json header;
  try {
    header = Json::parse(header_text);
  } catch (const FormatError& e) {
    throw FormatError(path + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!header.is_object()) throw FormatError(path + ": header is not a JSON object");

  // Appended directly: the parser already refused duplicate names, and Json::set would scan the
  // table for each tensor (quadratic in a hostile header of many tensors).
  Json::Object tensors;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, entry] : header.as_object("header")) {
    if (name == "__metadata__") {
      for (const auto& kv : entry.as_object("__metadata__")) kv.second.as_string("__metadata__." + kv.first);
      parsed.metadata = entry;
      continue;
    }
    const std::string where = path + ": tensor \"" + name + "\"";
    const std::string dtype = entry.at("dtype").as_string(where + " dtype");
    if (dtype != "F32" && dtype != "F64") throw FormatError(where + " has unsupported dtype " + dtype);
    const std::uint64_t item = dtype == "F32" ? 4 : 8;
    std::uint64_t count = 1;
    for (const auto& d : entry.at("shape").as_array(where + " shape")) {
      const std::int64_t dim = d.as_int(where + " shape");
      if (dim < 0 || dim > (std::int64_t(1) << 40)) throw FormatError(where + " has a bad dimension");
      count *= static_cast<std::uint64_t>(dim);
      if (count > (std::uint64_t(1) << 40)) throw FormatError(where + " is too large");
    }
    const auto& offsets = entry.at("data_offsets").as_array(where + " data_offsets");
    if (offsets.size() != 2) throw FormatError(where + ": data_offsets needs two numbers");
    const std::int64_t begin = offsets[0].as_int(where + " offset"), end = offsets[1].as_int(where + " offset");
    if (begin < 0 || end < begin || static_cast<std::uint64_t>(end) > payload_size)
      throw FormatError(where + ": byte range [" + std::to_string(begin) + ", " + std::to_string(end) +
                        ") lies outside the data section of " + std::to_string(payload_size) + " bytes");
    if (static_cast<std::uint64_t>(end - begin) != count * item)
      throw FormatError(where + ": byte range does not match its shape and dtype");
    ranges.emplace_back(begin, end);
    tensors.emplace_back(name, entry);
  }
  parsed.header = Json(std::move(tensors));
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw FormatError(path + ": tensors overlap");
  if (!parsed.metadata.is_object()) throw FormatError(path + ": no __metadata__; not an eigennet model");
  const Json* format = parsed.metadata.find("format");
  if (!format || format->as_string() != "eigennet") throw FormatError(path + ": not an eigennet model file");
  const std::string version = parsed.metadata.string_or("format_version", "");
  if (version != std::to_string(kFormatVersion))
    throw FormatError(path + ": unsupported format version \"" + version + "\" (this build reads version " +
                      std::to_string(kFormatVersion) + ")");
  return parsed;
}

ParsedFile parse_file(const std::string& path, Sections sections = Sections::All) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError("cannot open model file " + path);
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0);
  if (file_size < 8) throw FormatError(path + ": not an eigennet model (file is " + std::to_string(file_size) + " bytes)");
  unsigned char prefix[8];
  in.read(reinterpret_cast<char*>(prefix), 8);
  const std::uint64_t header_length = header_length_of(prefix, static_cast<std::uint64_t>(file_size), path);
  std::string header_text(static_cast<std::size_t>(header_length), '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_length));
  if (!in) throw FormatError(path + ": truncated header");
  const std::size_t payload_size = static_cast<std::size_t>(file_size) - 8 - static_cast<std::size_t>(header_length);
  ParsedFile parsed = parse_header(header_text, payload_size, path);
  if (sections == Sections::All) {
    parsed.payload.resize(payload_size);
    in.read(parsed.payload.data(), static_cast<std::streamsize>(payload_size));
    if (!in) throw FormatError(path + ": truncated data section");
  }
  return parsed;
}

ParsedFile parse_bytes(const std::string& bytes, const std::string& name, Sections sections = Sections::All) {
  if (bytes.size() < 8) throw FormatError(name + ": not an eigennet model (" + std::to_string(bytes.size()) + " bytes)");
  const std::uint64_t header_length =
      header_length_of(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), name);
  const std::size_t payload_begin = 8 + static_cast<std::size_t>(header_length);
  ParsedFile parsed = parse_header(bytes.substr(8, static_cast<std::size_t>(header_length)), bytes.size() - payload_begin, name);
  if (sections == Sections::All) parsed.payload = bytes.substr(payload_begin);
  return parsed;
}

// Tensor entries by name: Json::find scans, and a network reads one tensor per parameter block.
using TensorIndex = std::unordered_map<std::string, const Json*>;

TensorIndex index_tensors(const ParsedFile& file) {
  TensorIndex index;
  for (const auto& [name, entry] : file.header.as_object()) index.emplace(name, &entry);
  return index;
}

template <typename T>
void read_tensor(const ParsedFile& file, const TensorIndex& index, const std::string& name,
                 const std::vector<Index>& shape, T* out, const std::string& path) {
  const auto found = index.find(name);
  if (found == index.end()) throw FormatError(path + ": missing tensor \"" + name + "\"");
  const Json* entry = found->second;
  const auto& dims = entry->at("shape").as_array();
  bool same = dims.size() == shape.size();
  for (std::size_t i = 0; same && i < dims.size(); ++i) same = dims[i].as_int() == shape[i];
  if (!same) {
    std::string expected;
    for (Index d : shape) expected += (expected.empty() ? "" : ", ") + std::to_string(d);
    throw FormatError(path + ": tensor \"" + name + "\" has shape " + entry->at("shape").dump() + ", expected [" +
                      expected + "]");
  }
  const auto begin = static_cast<std::size_t>(entry->at("data_offsets").as_array()[0].as_int());
  std::size_t count = 1;
  for (Index d : shape) count *= static_cast<std::size_t>(d);
  const char* src = file.payload.data() + begin;
  if (entry->at("dtype").as_string() == "F32") {
    for (std::size_t i = 0; i < count; ++i) {
      float v;
      std::memcpy(&v, src + 4 * i, 4);
      out[i] = static_cast<T>(v);
    }
  } else {
    for (std::size_t i = 0; i < count; ++i) {
      double v;
      std::memcpy(&v, src + 8 * i, 8);
      out[i] = static_cast<T>(v);
    }
  }
}

std::int64_t metadata_int(const Json& metadata, const std::string& key, const std::string& path) {
  const std::string text = metadata.string_or(key, "0");
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 0) throw FormatError(path + ": bad " + key + " \"" + text + "\"");
  return value;
}

// The built-in layers with weight matrices hold an n_in x n_out tensor (the variational
// autoencoder one per pair of neighbouring widths) that the file must contain, and batch
// normalization a vector per input, so a configuration declaring more weights than the file holds
// is corrupt; refusing it before the network is built keeps a small crafted file from allocating
// gigabytes. Type names match as the layer registry matches them (case and underscores ignored).
void check_sizes_fit(const Json& config, const ParsedFile& file, const std::string& path) {
  std::uint64_t stored = 0;  // elements of all layer tensors in the file
  for (const auto& [name, entry] : file.header.as_object()) {
    if (name.rfind("layers.", 0) != 0) continue;
    std::uint64_t count = 1;
    for (const auto& d : entry.at("shape").as_array()) count *= static_cast<std::uint64_t>(d.as_int());
    stored += count;
  }
  if (!config.is_object() || !config.contains("input_dim") || !config.contains("layers")) return;
  const std::int64_t input_dim = config.at("input_dim").as_int("input_dim");
  if (input_dim < 1) return;  // the network constructor reports it
  // A width as declared, 0 when absent or not a number (the layer's constructor reports those).
  auto declared = [](const Json* value) -> std::uint64_t {
    if (!value || !value->is_number()) return 0;
    return static_cast<std::uint64_t>(std::max<std::int64_t>(value->as_int("layer width"), 0));
  };
  auto require_stored = [&](std::uint64_t rows, std::uint64_t cols, const std::string& type) {
    if (rows != 0 && cols > stored / rows)
      throw FormatError(path + ": the configuration declares a " + std::to_string(rows) + " x " + std::to_string(cols) +
                        " " + type + " layer, but the file holds only " + std::to_string(stored) + " weights");
  };
  auto width = static_cast<std::uint64_t>(input_dim);
  for (const auto& layer : config.at("layers").as_array("layers")) {
    if (!layer.is_object()) return;
    const Json* type_field = layer.find("type");
    const std::string type = type_field && type_field->is_string() ? type_field->as_string() : "";
    const std::string key = registry_key(type);
    if (const Json* n_in = layer.find("n_in"); n_in && n_in->is_number()) width = declared(n_in);
    const std::uint64_t units = declared(layer.find("n_out"));
    if (key == "DENSE" || key == "OUTPUT" || key == "AUTOENCODER" || key == "RBM") {
      if (units == 0) return;
      require_stored(width, units, type);
      width = units;
    } else if (key == "VARIATIONALAUTOENCODER") {
      if (units == 0) return;
      // input -> encoder sizes -> latent (units) -> decoder sizes -> input again
      std::vector<std::uint64_t> chain{width};
      auto append_sizes = [&](const char* key_name) {
        if (const Json* list = layer.find(key_name); list && list->is_array())
          for (const auto& size : list->as_array()) chain.push_back(declared(&size));
      };
      append_sizes("encoder_layer_sizes");
      chain.push_back(units);
      append_sizes("decoder_layer_sizes");
      chain.push_back(width);
      for (std::size_t i = 1; i < chain.size(); ++i) require_stored(chain[i - 1], chain[i], type);
      width = units;
    } else if (key == "BATCHNORMALIZATION") {
      require_stored(width, 1, type);
    } else if (units != 0) {
      width = units;
    }
  }
}

template <typename T>
std::unique_ptr<Network<T>> read_network(const ParsedFile& file, const std::string& path, Json* extra) {
  const Json& metadata = file.metadata;
  Json config;
  try {
    config = Json::parse(metadata.at("config").as_string("config"));
  } catch (const FormatError& e) {
    throw FormatError(path + ": bad model configuration (" + e.what() + ")");
  }
  check_sizes_fit(config, file, path);
  std::unique_ptr<Network<T>> network;
  try {
    network = std::make_unique<Network<T>>(config);
  } catch (const std::invalid_argument& e) {
    throw FormatError(path + ": the stored configuration is invalid (" + e.what() + ")");
  }
  const TensorIndex index = index_tensors(file);
  auto params = network->params();
  for (const auto& loc : network->param_locations())
    read_tensor<T>(file, index, "layers." + std::to_string(loc.layer) + "." + loc.name, tensor_shape(loc),
                   params.data() + loc.offset, path);
  auto& updater = network->updater();
  const auto names = updater.state_names();
  for (std::size_t i = 0; i < names.size(); ++i)
    read_tensor<T>(file, index, "updater." + names[i], {network->num_params()}, updater.state()[i].data(), path);
  updater.set_iteration(metadata_int(metadata, "iteration", path));
  network->set_epoch(metadata_int(metadata, "epoch", path));
  if (const Json* rng = metadata.find("rng")) network->rng().deserialize(rng->as_string());
  if (extra) {
    try {
      *extra = Json::parse(metadata.string_or("extra", "{}"));
    } catch (const FormatError& e) {
      throw FormatError(path + ": bad extra metadata (" + e.what() + ")");
    }
  }
  return network;
}

// The header text (padded so the data section stays 8-byte aligned) and the tensors that follow
// it, pointing into the network's own buffers.
template <typename T>
std::pair<std::string, std::vector<TensorEntry>> encode_network(const Network<T>& network, const Json& extra) {
  if (!little_endian()) throw std::runtime_error("saving models is only supported on little-endian machines");
  std::vector<TensorEntry> tensors;
  const auto params = network.params();
  for (const auto& loc : network.param_locations()) {
    tensors.push_back({"layers." + std::to_string(loc.layer) + "." + loc.name,
                       reinterpret_cast<const char*>(params.data() + loc.offset),
                       static_cast<std::size_t>(loc.rows * loc.cols) * sizeof(T), tensor_shape(loc)});
  }
  const auto& updater = network.updater();
  const auto names = updater.state_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& state = updater.state()[i];
    tensors.push_back({"updater." + names[i], reinterpret_cast<const char*>(state.data()),
                       static_cast<std::size_t>(state.size()) * sizeof(T), {state.size()}});
  }
  Json metadata = Json::object();
  metadata.set("format", "eigennet");
  metadata.set("format_version", std::to_string(kFormatVersion));
  metadata.set("dtype", std::is_same<T, float>::value ? "float32" : "float64");
  metadata.set("config", network.config().dump());
  metadata.set("iteration", std::to_string(updater.iteration()));
  metadata.set("epoch", std::to_string(network.epoch()));
  metadata.set("rng", const_cast<Network<T>&>(network).rng().serialize());
  metadata.set("extra", extra.dump());

  Json header = Json::object();
  header.set("__metadata__", metadata);
  std::uint64_t offset = 0;
  for (const auto& t : tensors) {
    Json entry = Json::object();
    entry.set("dtype", dtype_tag<T>());
    entry.set("shape", shape_json(t.shape));
    Json offsets = Json::array();
    offsets.push_back(static_cast<unsigned long long>(offset));
    offsets.push_back(static_cast<unsigned long long>(offset + t.bytes));
    entry.set("data_offsets", offsets);
    header.set(t.name, entry);
    offset += t.bytes;
  }
  std::string text = header.dump();
  while (text.size() % 8 != 0) text += ' ';
  return {std::move(text), std::move(tensors)};
}

}  // namespace

template <typename T>
void save_network(const Network<T>& network, const std::string& path, const Json& extra) {
  const auto [header, tensors] = encode_network(network, extra);
  write_atomically(path, header, tensors);
}

template <typename T>
std::string save_network_to_bytes(const Network<T>& network, const Json& extra) {
  const auto [header, tensors] = encode_network(network, extra);
  std::size_t total = 8 + header.size();
  for (const auto& t : tensors) total += t.bytes;
  std::string out;
  out.reserve(total);
  for (int i = 0; i < 8; ++i) out += static_cast<char>(static_cast<std::uint64_t>(header.size()) >> (8 * i));
  out += header;
  for (const auto& t : tensors) out.append(t.data, t.bytes);
  return out;
}

template <typename T>
std::unique_ptr<Network<T>> load_network(const std::string& path, Json* extra) {
  if (!little_endian()) throw std::runtime_error("loading models is only supported on little-endian machines");
  try {
    return read_network<T>(parse_file(path), path, extra);
  } catch (const FormatError& e) {
    throw FormatError(printable(e.what()));
  }
}

template <typename T>
std::unique_ptr<Network<T>> load_network_from_bytes(const std::string& bytes, Json* extra) {
  if (!little_endian()) throw std::runtime_error("loading models is only supported on little-endian machines");
  const std::string name = "model bytes";
  try {
    return read_network<T>(parse_bytes(bytes, name), name, extra);
  } catch (const FormatError& e) {
    throw FormatError(printable(e.what()));
  }
}

Json read_model_header(const std::string& path) {
  ParsedFile file;
  try {
    file = parse_file(path, Sections::HeaderOnly);
  } catch (const FormatError& e) {
    throw FormatError(printable(e.what()));
  }
  Json out = file.header;
  out.set("__metadata__", file.metadata);
  return out;
}

namespace {
std::string dtype_of(const Json& metadata, const std::string& name) {
  const std::string dtype = metadata.string_or("dtype", "float32");
  if (dtype != "float32" && dtype != "float64") throw FormatError(printable(name + ": unknown dtype \"" + dtype + "\""));
  return dtype;
}
}  // namespace

std::string model_dtype(const std::string& path) {
  return dtype_of(read_model_header(path).at("__metadata__"), path);
}

std::string model_dtype_from_bytes(const std::string& bytes) {
  ParsedFile file;
  try {
    file = parse_bytes(bytes, "model bytes", Sections::HeaderOnly);
  } catch (const FormatError& e) {
    throw FormatError(printable(e.what()));
  }
  return dtype_of(file.metadata, "model bytes");
}

template void save_network<float>(const Network<float>&, const std::string&, const Json&);
template void save_network<double>(const Network<double>&, const std::string&, const Json&);
template std::unique_ptr<Network<float>> load_network<float>(const std::string&, Json*);
template std::unique_ptr<Network<double>> load_network<double>(const std::string&, Json*);
template std::string save_network_to_bytes<float>(const Network<float>&, const Json&);
template std::string save_network_to_bytes<double>(const Network<double>&, const Json&);
template std::unique_ptr<Network<float>> load_network_from_bytes<float>(const std::string&, Json*);
template std::unique_ptr<Network<double>> load_network_from_bytes<double>(const std::string&, Json*);

}  // namespace eigennet
