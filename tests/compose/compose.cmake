# tests/compose/compose.cmake: composition and load-time links (docs/compose.md)
# on the RFC's keyvalue test case (examples/compose: kv-test, kv-memory,
# kv-misfit), plus a pair whose link cannot be carried (a resource of another
# interface) and a pair passing resources every way (owned-*). Included by tests/CMakeLists.txt inside if(WASMPLUG_GUESTS);
# the components need the guest tools.
if(NOT WASMPLUG_COMPONENTS)
  return()
endif()
include(${CMAKE_BINARY_DIR}/deps/tools.cmake)
wasmplug_c_component(uncarried-main WIT compose/wit WORLD uncarried-main
  SOURCES compose/uncarried_main.c)
wasmplug_c_component(uncarried-plug WIT compose/wit WORLD uncarried-plug
  SOURCES compose/uncarried_plug.c)
wasmplug_c_component(owned-main WIT compose/wit-owned WORLD owned-main SOURCES compose/owned_main.c)
wasmplug_c_component(owned-plug WIT compose/wit-owned WORLD owned-plug SOURCES compose/owned_plug.c)
wasmplug_test(test_compose compose/test_compose.c)
target_compile_definitions(test_compose PRIVATE
  WP_COMPOSE_FIXTURES="${CMAKE_CURRENT_SOURCE_DIR}/compose/fixtures")
add_dependencies(test_compose plugin-kv-test plugin-kv-memory plugin-kv-misfit
  plugin-uncarried-main plugin-uncarried-plug plugin-owned-main plugin-owned-plug)
# Again with the main component in a worker process (its plugs with it).
wasmplug_test_process(test_compose)
add_test(NAME test_cli_compose
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/test_compose.sh
          $<TARGET_FILE:wasmplug_cli> ${WP_FIXTURES} ${CMAKE_BINARY_DIR}/plugins)
set_tests_properties(test_cli_compose PROPERTIES LABELS cli TIMEOUT 300)
