# tests/dl/dl.cmake: the dl capability (src/host/dl, wasi:dl through
# libffi; docs/capabilities.md "dl") through a real C component
# (guest_component.c, world tests/dl/wit/guest.wit) calling into
# libwphello.so (libhello.c, built here) and the system's zlib. Included by
# tests/CMakeLists.txt inside if(WASMPLUG_GUESTS); sources are relative to
# tests/.
add_library(wphello SHARED dl/libhello.c)
target_compile_options(wphello PRIVATE ${WASMPLUG_WARNINGS})
set_target_properties(wphello PROPERTIES C_VISIBILITY_PRESET hidden
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib)
wasmplug_test(test_dl dl/test_dl.c)
# The known crc32 values come from zlib itself, called here.
target_link_libraries(test_dl PRIVATE ZLIB::ZLIB)
target_compile_definitions(test_dl PRIVATE WP_DL_HELLO="$<TARGET_FILE:wphello>")
add_dependencies(test_dl wphello)
set_tests_properties(test_dl PROPERTIES TIMEOUT 300)
if(WASMPLUG_COMPONENTS)
  include(${CMAKE_BINARY_DIR}/deps/tools.cmake)
  wasmplug_http_c_component(test-dl-component WIT ${CMAKE_CURRENT_SOURCE_DIR}/dl/wit
    WORLD guest BINDINGS guest SOURCES dl/guest_component.c)
  add_dependencies(test_dl plugin-test-dl-component)
  target_compile_definitions(test_dl PRIVATE WP_DL_COMPONENT=1)
endif()
