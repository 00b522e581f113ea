package main

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// debianPython is the interpreter of Debian's python3-boto3 package, which
// make test installs. It is named by path: a pyenv or virtualenv python on
// PATH may hold another boto3, or none.
const debianPython = "/usr/bin/python3"

// pythonDir holds the Python client script and the README's pytest
// fixture.
const pythonDir = "../../tests/python"

// runPython makes the calls with boto3 in one python process.
func runPython(t *testing.T, endpoint string, calls []call) []answer {
	t.Helper()
	return runPythonWith(t, []string{endpoint}, nil, calls)
}

// runPythonWith runs tests/python/metering.py with args and extra
// environment. botocore 1.29 takes its region from AWS_DEFAULT_REGION
// only; AWS_REGION came later.
func runPythonWith(t *testing.T, args, env []string, calls []call) []answer {
	t.Helper()
	cmd := exec.Command(debianPython, append([]string{filepath.Join(pythonDir, "metering.py")}, args...)...)
	return runScript(t, "boto3", cmd, append([]string{"PATH=/usr/bin:/bin", "AWS_DEFAULT_REGION=us-east-1"}, env...), calls)
}
