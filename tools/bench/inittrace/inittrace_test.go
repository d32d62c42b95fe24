package inittrace

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	stderr := []byte("init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs\n" +
		"some other line\n" +
		"init github.com/aws/aws-sdk-go-v2/service/ecs @1.2 ms, 0.250 ms clock, 4096 bytes, 12 allocs\n")
	got, err := Parse(stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := []Init{
		{Package: "internal/bytealg"},
		{Package: "github.com/aws/aws-sdk-go-v2/service/ecs", Clock: 250 * time.Microsecond, Bytes: 4096, Allocs: 12},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

// TestLaunchTracesARealBinary runs this test binary itself under inittrace
// with -test.run matching no test (never this one again): the runtime's lines parse, and the testing
// package's initializer is among them.
func TestLaunchTracesARealBinary(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Measure(context.Background(), bin, []string{"-test.run=^$"}, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range s.Packages {
		found = found || p.Package == "testing"
	}
	if !found || s.Launches != 3 {
		t.Errorf("summary of %d launches lists %d packages, testing among them: %v", s.Launches, len(s.Packages), found)
	}
}
