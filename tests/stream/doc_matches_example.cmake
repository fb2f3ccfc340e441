# cmake -DDOC=docs/stream.md -DEXAMPLE=examples/uppercase.cpp -P doc_matches_example.cmake
# docs/stream.md shows examples/uppercase.cpp (from its first #include on) as a
# ```c++ block, since it reads stdin and cannot run as a docs.* test: keep them equal.
file(READ "${DOC}" doc)
file(READ "${EXAMPLE}" example)
string(FIND "${example}" "#include <reactsock/reactsock.hpp>" start)
if(start EQUAL -1)
    message(FATAL_ERROR "${EXAMPLE}: no #include <reactsock/reactsock.hpp>")
endif()
string(SUBSTRING "${example}" ${start} -1 body)
string(FIND "${doc}" "```c++\n${body}```" position)
if(position EQUAL -1)
    message(FATAL_ERROR "${DOC}: its uppercase example differs from ${EXAMPLE}; copy it over")
endif()
message(STATUS "${DOC} shows ${EXAMPLE} verbatim")
