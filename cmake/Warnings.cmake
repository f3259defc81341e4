set(TRINITY_WARNINGS -Wall -Wextra -Wpedantic -Wshadow=local -Wno-unused-parameter
    -Wnon-virtual-dtor -Wimplicit-fallthrough)
if(TRINITY_WERROR)
  list(APPEND TRINITY_WARNINGS -Werror)
endif()

# trinity_library(name SOURCES ... DEPS ...): one static library per layer.
function(trinity_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)  # a layer with no code yet
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
    return()
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${TRINITY_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()
