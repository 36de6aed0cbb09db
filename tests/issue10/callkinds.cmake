# tests/issue10/callkinds.cmake: one call API across kinds (issue 10).
# Included from tests/CMakeLists.txt inside if(WASMPLUG_GUESTS): the example
# plugins are in ${CMAKE_BINARY_DIR}/plugins. The fixture component
# (issue10/fixtures/bytes.wat) is component text, compiled at load.
set(WP_CALLKINDS_FIXTURES ${CMAKE_CURRENT_SOURCE_DIR}/issue10/fixtures)

wasmplug_test(test_call_kinds issue10/test_call_kinds.c)
target_compile_definitions(test_call_kinds PRIVATE WP_CALLKINDS_FIXTURES="${WP_CALLKINDS_FIXTURES}")
set_tests_properties(test_call_kinds PROPERTIES TIMEOUT 300)

# `wasmplug call` on the same exports, as tests/CMakeLists.txt runs the
# other CLI scripts (label cli); the script finds bytes.wat next to itself.
add_test(NAME test_cli_call_kinds
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_call_kinds.sh
          $<TARGET_FILE:wasmplug_cli> ${WP_FIXTURES} ${CMAKE_BINARY_DIR}/plugins)
set_tests_properties(test_cli_call_kinds PROPERTIES LABELS cli TIMEOUT 300
  ENVIRONMENT "WP_CALLKINDS_FIXTURES=${WP_CALLKINDS_FIXTURES}")
