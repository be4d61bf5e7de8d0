// Json: parse/dump round trips and a strict parser that rejects malformed input with FormatError.
#include <eigennet/errors.hpp>
#include <eigennet/json.hpp>
#include <string>
#include <vector>

#include "check.hpp"

using eigennet::FormatError;
using eigennet::Json;

namespace {

bool rejects(const std::string& text) {
  try {
    Json::parse(text);
  } catch (const FormatError&) {
    return true;
  }
  return false;
}

std::string nested_arrays(int depth) { return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'); }

std::string nested_objects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"k\":";
  text += "1";
  for (int i = 0; i < depth; ++i) text += "}";
  return text;
}

}  // namespace

TEST_CASE(json_builds_and_dumps_compactly_in_insertion_order) {
  Json doc = Json::object();
  doc.set("zeta", 1);
  doc.set("alpha", Json::array());
  doc.set("mid", "text");
  Json list = Json::array();
  list.push_back(true);
  list.push_back(nullptr);
  list.push_back(-2.5);
  doc.set("alpha", list);  // replaces in place, keeping the key's position
  CHECK_EQ(doc.dump(), std::string(R"({"zeta":1,"alpha":[true,null,-2.5],"mid":"text"})"));
  CHECK_EQ(Json::object().dump(), std::string("{}"));
  CHECK_EQ(Json::array().dump(), std::string("[]"));
  CHECK_EQ(Json(nullptr).dump(), std::string("null"));
  CHECK_EQ(Json(false).dump(), std::string("false"));
  CHECK_EQ(Json(123456789012LL).dump(), std::string("123456789012"));
  CHECK_EQ(Json(-0.0).dump(), std::string("0"));
}

TEST_CASE(json_round_trips_values_exactly) {
  const std::vector<double> numbers = {0.0,   -0.0,     1.0,         -1.0,     0.1,     1.0 / 3.0, 2.5e-308, 4.9e-324,
                                       1e300, -1.7e308, 123456789.0, 1e15,     1e16,    9007199254740993.0,
                                       3.14159265358979311599796346854, 6.02214076e23};
  for (double d : numbers) {
    const Json back = Json::parse(Json(d).dump());
    CHECK_MSG(back.is_number() && back.as_number() == d, "number " << d << " dumped as " << Json(d).dump());
  }

  const std::string text =
      R"({"name":"net \"one\"","tab\there":"a\\b/c\n\r\t\b\f","unicode":"\u00e9\u4e2d\ud83d\ude00","ctl":"\u0001\u001f",)"
      R"("nums":[0,-1,2.5,1e-7,-3.25e10],"flags":[true,false,null],"nested":{"a":{"b":[[],{}]}},"empty":""})";
  const Json doc = Json::parse(text);
  CHECK_EQ(doc.at("name").as_string(), std::string("net \"one\""));
  CHECK_EQ(doc.at("tab\there").as_string(), std::string("a\\b/c\n\r\t\b\f"));
  CHECK_EQ(doc.at("unicode").as_string(), std::string("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80"));
  CHECK_EQ(doc.at("ctl").as_string(), std::string("\x01\x1f"));
  CHECK_EQ(doc.at("nums").as_array().size(), std::size_t(5));
  CHECK_EQ(doc.at("nums").as_array()[3].as_number(), 1e-7);
  CHECK(doc.at("flags").as_array()[2].is_null());
  CHECK(doc.at("nested").at("a").at("b").as_array()[1].is_object());

  const std::string dumped = doc.dump();
  const Json again = Json::parse(dumped);
  CHECK(again == doc);
  CHECK_EQ(again.dump(), dumped);  // dump is a fixed point
  // Keys keep their order through the round trip.
  std::vector<std::string> keys;
  for (const auto& kv : again.as_object()) keys.push_back(kv.first);
  CHECK_EQ(keys.front(), std::string("name"));
  CHECK_EQ(keys.back(), std::string("empty"));

  // Whitespace everywhere JSON allows it.
  CHECK(Json::parse(" \n\t{ \"a\" : [ 1 , 2 ] , \"b\" : { } }\r\n ") == Json::parse(R"({"a":[1,2],"b":{}})"));
  // Equality is order-sensitive for objects (they are ordered by design) and type-sensitive.
  CHECK(Json::parse(R"({"a":1,"b":2})") != Json::parse(R"({"b":2,"a":1})"));
  CHECK(Json::parse("1") != Json::parse("\"1\""));
}

TEST_CASE(json_typed_accessors_name_the_field) {
  const Json doc = Json::parse(R"({"n":2.5,"i":3,"s":"x","b":true})");
  CHECK_EQ(doc.at("i").as_int("i"), std::int64_t(3));
  CHECK_THROWS(doc.at("n").as_int("layer n_out"), FormatError, "layer n_out: expected an integer");
  CHECK_THROWS(doc.at("s").as_number("rate"), FormatError, "rate: expected a JSON number, got string");
  CHECK_THROWS(doc.at("missing"), FormatError, "missing field \"missing\"");
  CHECK_THROWS(doc.at("b").as_array("layers"), FormatError, "layers");
  CHECK_EQ(doc.number_or("absent", 7.0), 7.0);
  CHECK_EQ(doc.string_or("s", "y"), std::string("x"));
  CHECK_EQ(doc.bool_or("b", false), true);
  CHECK(doc.find("nope") == nullptr);
}

TEST_CASE(json_rejects_truncated_input) {
  const std::vector<std::string> truncated = {"",        " ",      "{",          "[",       "{\"a\"",  "{\"a\":",
                                              "{\"a\":1", "{\"a\":1,", "[1,",       "[1",      "\"abc",   "\"abc\\",
                                              "tru",     "fals",   "nul",        "-",       "1.",      "1e",
                                              "1e+",     "\"\\u12", "{\"a\":[1,{"};
  for (const auto& text : truncated) CHECK_MSG(rejects(text), "accepted truncated \"" << text << "\"");
  // Every proper prefix of a valid document is invalid.
  const std::string valid = R"({"layers":[{"type":"Dense","n_out":8}],"seed":12})";
  CHECK(!rejects(valid));
  for (std::size_t n = 0; n < valid.size(); ++n)
    CHECK_MSG(rejects(valid.substr(0, n)), "accepted prefix \"" << valid.substr(0, n) << "\"");
}

TEST_CASE(json_rejects_trailing_garbage) {
  for (const std::string& text : std::vector<std::string>{"{} x", "{}}", "[]]", "1 2", "true false", "\"a\"\"b\"", "{\"a\":1}{", "null,",
                                 "0x10", "1.5.2", std::string("{}\0", 3)})
    CHECK_MSG(rejects(text), "accepted \"" << text << "\"");
  CHECK_THROWS(Json::parse("{} x"), FormatError, "trailing characters");
}

TEST_CASE(json_rejects_bad_tokens_and_numbers) {
  for (const std::string text :
       {"{a:1}", "{'a':1}", "[1,]", "{\"a\":1,}", "[,1]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "+1", ".5", "1.e5",
        "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "TRUE", "nul1", "[1 2]", "{1:2}", "\"a\nb\"", "\"tab\there\""})
    CHECK_MSG(rejects(text), "accepted \"" << text << "\"");
}

TEST_CASE(json_rejects_leading_zeros) {
  for (const std::string text : {"01", "-01", "00", "[007]", "{\"a\":00.5}"})
    CHECK_MSG(rejects(text), "accepted \"" << text << "\"");
  CHECK(Json::parse("0").as_number() == 0.0);
  CHECK(Json::parse("-0.5").as_number() == -0.5);
  CHECK(Json::parse("0e3").as_number() == 0.0);
  CHECK(Json::parse("10").as_number() == 10.0);
}

TEST_CASE(json_rejects_bad_escapes) {
  for (const std::string text : {R"("\x")", R"("\a")", R"("\0")", R"("\U0041")", R"("\u12G4")", R"("\u-123")",
                                 R"("\ud800")", R"("\ud800x")", R"("\ud800\u0041")", R"("\ud800\n")", R"("\udc00")",
                                 R"("\udfff\ud800")", R"("\u00")"})
    CHECK_MSG(rejects(text), "accepted " << text);
  CHECK_THROWS(Json::parse(R"("\q")"), FormatError, "bad escape");
  CHECK_THROWS(Json::parse(R"("\ud800")"), FormatError, "surrogate");
  // Valid escapes, for contrast.
  CHECK_EQ(Json::parse(R"("\u0041\/")").as_string(), std::string("A/"));
}

TEST_CASE(json_limits_nesting_depth) {
  CHECK(!rejects(nested_arrays(64)));
  CHECK(!rejects(nested_objects(64)));
  CHECK(rejects(nested_arrays(66)));
  CHECK(rejects(nested_objects(66)));
  CHECK_THROWS(Json::parse(nested_arrays(100)), FormatError, "nesting deeper than 64");
  CHECK_THROWS(Json::parse(nested_objects(1000)), FormatError, "nesting deeper than 64");
  // Far deeper than any stack could take if the parser recursed without a bound.
  CHECK(rejects(std::string(1000000, '[')));
  CHECK(rejects(nested_arrays(200000)));
}

TEST_CASE(json_rejects_duplicate_keys) {
  CHECK_THROWS(Json::parse(R"({"a":1,"a":2})"), FormatError, "duplicate key \"a\"");
  std::string many = "{";
  for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  CHECK_EQ(Json::parse(many + "\"last\":0}").as_object().size(), std::size_t(41));
  CHECK_THROWS(Json::parse(many + "\"k17\":0}"), FormatError, "duplicate key \"k17\"");
  CHECK(rejects(R"({"a":1,"b":{"c":1,"c":1}})"));
  CHECK(rejects(R"([{"x":null,"y":0,"x":null}])"));
  // The same key in sibling objects is fine.
  CHECK(!rejects(R"([{"a":1},{"a":2}])"));
  CHECK(!rejects(R"({"a":{"a":1}})"));
}

int main(int argc, char** argv) { return check::run(argc, argv); }
