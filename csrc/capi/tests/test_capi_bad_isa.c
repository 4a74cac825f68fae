/* Run with GAZEHEAD_CPU_ISA set to a value that is not a kernel set (ctest does): every entry
 * point still returns (no exception may cross the C ABI, which would abort the host):
 * gazehead_build_info reports the refusal in its text and creating a generator fails with a
 * status naming the variable.
 *
 *   GAZEHEAD_CPU_ISA=bogus gazehead_test_capi_bad_isa MODEL.safetensors */
#include <stdio.h>
#include <string.h>

#include "gazehead/gazehead.h"

int main(int argc, char** argv) {
  int failures = 0;
  const char* info;
  gazehead_model* m = NULL;
  gazehead_generator* g = NULL;
  gazehead_status s;
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL.safetensors\n", argv[0]);
    return 2;
  }
  info = gazehead_build_info();
  if (strstr(info, "CPU kernels unavailable: GAZEHEAD_CPU_ISA='bogus'") == NULL) {
    fprintf(stderr, "build info does not report the refused kernel choice: \"%s\"\n", info);
    ++failures;
  }
  if (gazehead_model_load_file(argv[1], &m) != GAZEHEAD_OK) {
    fprintf(stderr, "model load failed: %s\n", gazehead_last_error());
    return 1;
  }
  s = gazehead_generator_create(m, NULL, &g);
  if (s != GAZEHEAD_ERR_INVALID_ARGUMENT || g != NULL ||
      strstr(gazehead_last_error(), "GAZEHEAD_CPU_ISA='bogus' is not one of") == NULL) {
    fprintf(stderr, "generator_create: %s \"%s\"\n", gazehead_status_name(s),
            gazehead_last_error());
    ++failures;
  }
  gazehead_generator_free(g);
  gazehead_model_free(m);
  if (failures == 0) printf("bad GAZEHEAD_CPU_ISA: every call returned a status\n");
  return failures == 0 ? 0 : 1;
}
