# Checks the executables' command lines: --version and --help print and exit 0, an unknown
# option fails, and the GUI can render itself to a PNG offscreen.
function(expect_run what expect_rc expect_regex)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  if(NOT rc EQUAL expect_rc)
    message(FATAL_ERROR "${what}: exit ${rc}, expected ${expect_rc}\n${out}\n${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${expect_regex}")
    message(FATAL_ERROR "${what}: output does not match '${expect_regex}':\n${out}\n${err}")
  endif()
endfunction()

expect_run("agent --version" 0 "podscape-agent [0-9]+\\.[0-9]+\\.[0-9]+" ${AGENT} --version)
expect_run("agent --help" 0 "Usage: podscape-agent" ${AGENT} --help)
expect_run("agent bad option" 2 "unknown option '--bogus'" ${AGENT} --bogus)
expect_run("podscape --version" 0 "Podscape [0-9]+\\.[0-9]+\\.[0-9]+" ${PODSCAPE} --version)
expect_run("podscape --help" 0 "--screenshot" ${PODSCAPE} --help)
file(REMOVE ${OUT}/cli-shot.png)
expect_run("podscape --screenshot" 0 "" ${PODSCAPE} --screenshot ${OUT}/cli-shot.png)
file(SIZE ${OUT}/cli-shot.png size)
if(size LESS 1000)
  message(FATAL_ERROR "screenshot is only ${size} bytes")
endif()

# The agent's credentials and kubeconfig, without starting the engine.
file(REMOVE_RECURSE ${OUT}/agent-data)
expect_run("agent --print-kubeconfig" 0 "certificate-authority-data: LS0t.*token: [0-9a-f]+"
           ${AGENT} --data-dir ${OUT}/agent-data --listen 127.0.0.1:16443 --print-kubeconfig)
expect_run("agent remote listen refused" 2 "not a loopback address.*--allow-remote"
           ${AGENT} --data-dir ${OUT}/agent-data --listen 0.0.0.0:0 --nodes 0)
expect_run("agent bad port" 2 "invalid port" ${AGENT} --data-dir ${OUT}/agent-data --listen 127.0.0.1:http)
