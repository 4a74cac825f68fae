// Model::create checks that every weight and bias holds exactly the floats its shape needs,
// whoever filled the ModelSpec (bindings, model file reader, a C++ program), and says which
// layer and both sizes when it does not.
#include <cstdio>
#include <stdexcept>
#include <string>

#include "gazehead/model.h"
#include "random_model.h"

namespace {

int g_failures = 0;

void check(bool ok, const std::string& what, int line) {
  if (!ok) {
    ++g_failures;
    std::fprintf(stderr, "test_model_spec.cpp:%d: %s\n", line, what.c_str());
  }
}

// create(spec) must throw std::invalid_argument with exactly `message`.
void expect_refused(const gazehead::ModelSpec& spec, const std::string& message, int line) {
  try {
    gazehead::Model::create(spec);
    check(false, "accepted, expected: " + message, line);
  } catch (const std::invalid_argument& e) {
    check(e.what() == message,
          std::string("message \"") + e.what() + "\", expected \"" + message + "\"", line);
  }
}

}  // namespace

int main() {
  gazehead_test::RandomModelOptions o;
  gazehead_test::RandomModel m(
      o);  // enc 17 -> 16 -> 16, GRU H 16, prior 16 -> 16, dec 24 -> 16 -> 16 -> 3
  {
    const auto model = gazehead::Model::create(m.spec);
    check(model && model->hidden() == 16 && model->latent() == 8, "the well-formed spec", __LINE__);
  }
  {
    gazehead::ModelSpec s = m.spec;
    s.enc[1].bias_size = 15;  // one float short
    expect_refused(s, "layer enc layer 1: bias holds 15 floats, expected 16 (out)", __LINE__);
  }
  {
    gazehead::ModelSpec s = m.spec;
    s.dec[2].bias_size = 4;  // one float too many is a mismatch too (a wrong tensor)
    expect_refused(s, "layer dec layer 2: bias holds 4 floats, expected 3 (out)", __LINE__);
  }
  {
    gazehead::ModelSpec s = m.spec;
    s.gru_hh.weight_size = 16 * 48 - 16;  // one row short
    expect_refused(s, "layer GRU hidden: weight holds 752 floats, expected 768 (out 48 x in 16)",
                   __LINE__);
  }
  {
    gazehead::ModelSpec s = m.spec;
    s.prior[0].weight_size = 0;  // a spec that never said what it holds
    expect_refused(s, "layer prior layer 0: weight holds 0 floats, expected 256 (out 16 x in 16)",
                   __LINE__);
  }
  {
    gazehead::ModelSpec s = m.spec;
    s.enc[0].bias = nullptr;  // the null check comes first and still names the layer
    expect_refused(s, "layer enc layer 0: weight or bias pointer is null", __LINE__);
  }
  if (g_failures) {
    std::fprintf(stderr, "%d check(s) failed\n", g_failures);
    return 1;
  }
  std::printf("test_model_spec: all checks passed\n");
  return 0;
}
