// The model file: the safetensors layout (8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw little-endian bytes). The
// header's "__metadata__" holds, as JSON strings, the network configuration, the format version,
// the updater's step counter, the epoch counter, the random stream state, and any extra metadata
// of the caller (the Python package keeps its own settings there).
//
// Tensors: "layers.<i>.W" (n_in, n_out), "layers.<i>.b" (n_out), "updater.<state>" (n_params).
#pragma once

#include <memory>
#include <string>

#include "eigennet/json.hpp"
#include "eigennet/network.hpp"

namespace eigennet {

constexpr int kFormatVersion = 1;

// Writes atomically: a temporary file in the same directory, flushed, then renamed over `path`.
template <typename T>
void save_network(const Network<T>& network, const std::string& path, const Json& extra = Json::object());

// Loads a model saved in either precision, converting to T when they differ. Throws FormatError
// for anything that is not a well-formed eigennet model file.
template <typename T>
std::unique_ptr<Network<T>> load_network(const std::string& path, Json* extra = nullptr);

// The same format in memory: the bytes save_network would write, and a network read from them
// (validated exactly as a file is; errors name "model bytes").
template <typename T>
std::string save_network_to_bytes(const Network<T>& network, const Json& extra = Json::object());
template <typename T>
std::unique_ptr<Network<T>> load_network_from_bytes(const std::string& bytes, Json* extra = nullptr);

// The header of a model file (validated as for loading): metadata strings and tensor table.
Json read_model_header(const std::string& path);
// "float32" or "float64": the precision a file was saved in.
std::string model_dtype(const std::string& path);
std::string model_dtype_from_bytes(const std::string& bytes);

}  // namespace eigennet
