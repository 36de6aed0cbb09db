# tests/issue10/templates.cmake: see tests/CMakeLists.txt
# `wasmplug new`: every template, made from an installed wasmplug into a
# directory outside the source tree, built with its own Makefile and tested.
add_test(NAME test_templates
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/issue10/test_templates.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(test_templates PROPERTIES LABELS templates TIMEOUT 900)
