# build/serve.json: the server config `make run` serves (wasmplug serve), one
# route per HTTP example that this build made (targets plugin-<name>), each
# example's plugin from build/plugins. Included by the top CMakeLists.txt
# after examples/, when every plugin target is known.
set(serve_routes)
set(serve_plugins)
set(serve_urls)
# wasmplug_serve_route(<route path> <plugin name> <mode fresh|reuse> [config JSON]):
function(wasmplug_serve_route path name mode)
  if(NOT TARGET plugin-${name})
    return()
  endif()
  set(manifest "")
  if(ARGC GREATER 3)
    set(manifest ", \"manifest\": {\"config\": ${ARGV3}}")
  endif()
  set(p "    \"${name}\": {\"path\": \"${WASMPLUG_PLUGIN_DIR}/${name}.wasm\"${manifest}}")
  set(r "    {\"match\": {\"path\": \"${path}\"}, \"plugin\": \"${name}\", \"instances\": {\"mode\": \"${mode}\"}}")
  set(serve_plugins ${serve_plugins} "${p}" PARENT_SCOPE)
  set(serve_routes ${serve_routes} "${r}" PARENT_SCOPE)
  string(REPLACE "..." "" url ${path})
  set(serve_urls ${serve_urls} "${url}" PARENT_SCOPE)
endfunction()

if(WASMPLUG_GUESTS)
  wasmplug_serve_route(/c http-hello-c reuse)
  wasmplug_serve_route(/go http-hello-go reuse)
  wasmplug_serve_route(/c-wasi http-hello-c-wasi fresh)
  wasmplug_serve_route(/c-wasmplug http-hello-c-wasmplug reuse)
  wasmplug_serve_route(/python http-hello-python reuse)
  wasmplug_serve_route(/js http-hello-js reuse)
  wasmplug_serve_route(/rust http-hello-rust fresh)
  wasmplug_serve_route(/api/... http-api-go reuse "{\"service_name\": \"wasmplug example notes\"}")
endif()
# /filtered: the C hello behind a Proxy-Wasm filter (Rust SDK, else Go SDK)
# that adds response headers from its JSON configuration.
set(filters_json "")
foreach(lang rust go)
  if(TARGET plugin-pw-headers-${lang} AND TARGET plugin-http-hello-c AND NOT filters_json)
    set(filters_json ",
  \"filters\": {
    \"headers\": {\"path\": \"${WASMPLUG_PLUGIN_DIR}/pw-headers-${lang}.wasm\",
                \"config\": {\"response\": {\"set\": {\"x-demo\": \"filtered\"}}}}
  }")
    list(APPEND serve_routes "    {\"match\": {\"path\": \"/filtered\"}, \"plugin\": \"http-hello-c\", \"filters\": [\"headers\"]}")
    list(APPEND serve_urls /filtered)
  endif()
endforeach()
string(JOIN ",\n" plugins_json ${serve_plugins})
string(JOIN ",\n" routes_json ${serve_routes})
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/serve.json CONTENT
"{
  \"listen\": \"127.0.0.1:8080\",
  \"workers\": 2,
  \"metrics_path\": \"/metrics\",
  \"plugins\": {
${plugins_json}
  },
  \"routes\": [
${routes_json}
  ]${filters_json}
}
")
string(JOIN " " serve_urls_text ${serve_urls})
file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/serve-urls.txt CONTENT "${serve_urls_text}\n")
