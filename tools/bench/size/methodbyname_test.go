package size

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// reflectMethodByName is the linker's dependency edge from a function that
// calls reflect.Value.MethodByName with a non-constant name. Once any such
// edge is reachable, the linker keeps every exported method of every type:
// all the AWS SDK client operations, about 8 MiB per Lambda binary. It came
// from text/template's executor (shared/spec/taskdef evaluates placeholders
// itself now, see shared/spec/taskdef/exec.go).
const reflectMethodByName = "<ReflectMethod> -> reflect.Value.MethodByName"

// TestLambdasDoNotLinkMethodByName builds the deployer and runner as they
// ship (linux/arm64, lambda.norpc) with the linker's -dumpdep and fails if
// MethodByName is reachable.
func TestLambdasDoNotLinkMethodByName(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: builds and links the deployer and runner Lambdas")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from tools/bench/size: %v", err)
	}
	for _, fn := range []string{"deployer", "runner"} {
		t.Run(fn, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), "go", "build", "-ldflags=-dumpdep", "-tags", "lambda.norpc",
				"-o", filepath.Join(t.TempDir(), "bootstrap"), "./functions/"+fn)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
			dump, err := cmd.CombinedOutput() // the dump goes to the linker's stdout
			if err != nil {
				t.Fatalf("go build ./functions/%s: %v\n%s", fn, err, tail(dump, 2000))
			}
			if !bytes.Contains(dump, []byte("-> main.main")) {
				t.Fatalf("the -dumpdep output of ./functions/%s has no edge to main.main; has its format changed?\n%s", fn, tail(dump, 2000))
			}
			var callers []string
			for line := range strings.Lines(string(dump)) {
				if strings.Contains(line, reflectMethodByName) {
					callers = append(callers, strings.TrimSpace(line))
				}
			}
			if len(callers) > 0 {
				t.Errorf("./functions/%s links reflect.Value.MethodByName with a non-constant name, so the linker keeps "+
					"every exported method (all AWS SDK operations). Reached from:\n  %s\n"+
					"Find the path with: go build -ldflags=-dumpdep -tags lambda.norpc ./functions/%s 2>&1 | grep ReflectMethod",
					fn, strings.Join(callers, "\n  "), fn)
			}
		})
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
