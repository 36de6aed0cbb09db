# tests/pact/pact.cmake: the Pact plugin driver example (examples/pact): the
# driver's sources built into a cmocka test against the Python JWT plugin,
# and the example program run as its README shows. Included by
# tests/CMakeLists.txt inside if(WASMPLUG_GUESTS); needs the components.
if(NOT WASMPLUG_COMPONENTS)
  return()
endif()
set(pact_driver_dir ${CMAKE_SOURCE_DIR}/examples/pact/driver)
wasmplug_test(test_pact pact/test_pact.c ${pact_driver_dir}/pact_driver.c ${pact_driver_dir}/provider.c)
target_include_directories(test_pact PRIVATE ${pact_driver_dir})
add_dependencies(test_pact plugin-pact-jwt-py)
# The first load compiles the 18 MB Python component (about 15 s here).
set_tests_properties(test_pact PROPERTIES TIMEOUT 300)
add_test(NAME example_pact COMMAND pact-jwt-driver ${WASMPLUG_PLUGIN_DIR}/pact-jwt-py.wasm)
set_tests_properties(example_pact PROPERTIES TIMEOUT 300 DEPENDS test_pact
  FAIL_REGULAR_EXPRESSION "error \\(|did not give the outcome"
  PASS_REGULAR_EXPRESSION "matching +matched.*mismatching +mismatched.*\\$\\.sub.*bad-sig +mismatched.*signature is not valid.*expired +mismatched.*\\$\\.exp: Actual token has expired")
