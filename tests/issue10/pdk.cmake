# tests/issue10/pdk.cmake: see tests/CMakeLists.txt
# The PDKs (issue 10): a C plugin whose export name is not a C identifier
# (WP_EXPORT_BYTES_AS), called through the API; the AssemblyScript PDK; the CLI's newline after bytes
# output on a terminal.

# examples/CMakeLists.txt (processed before tests/) defines wasmplug_c_plugin;
# it takes sources relative to this directory (tests/).
wasmplug_c_plugin(pdk-count-words issue10/pdk/count_words.c)
wasmplug_test(test_pdk issue10/test_pdk.c)
add_dependencies(test_pdk plugin-pdk-count-words)
# The AssemblyScript PDK's test plugin, when the build has asc (with the guest
# tools; examples/CMakeLists.txt defines wasmplug_as_plugin then).
if(WASMPLUG_AS_PLUGINS)
  wasmplug_as_plugin(pdk-test-as issue10/pdk/as/pdk_test.ts)
  add_dependencies(test_pdk plugin-pdk-test-as)
  target_compile_definitions(test_pdk PRIVATE WP_AS_PLUGINS)
endif()

add_test(NAME test_cli_newline
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/issue10/test_cli_newline.sh
          $<TARGET_FILE:wasmplug_cli> ${WP_FIXTURES} ${CMAKE_BINARY_DIR}/plugins)
set_tests_properties(test_cli_newline PROPERTIES LABELS cli TIMEOUT 300 SKIP_RETURN_CODE 77)
