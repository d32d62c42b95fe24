package schema

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the committed schema")

// TestSchemaMatchesTypes keeps the committed JSON Schema equal to the one
// generated from the Go types. Refresh with `go test ./shared/spec/manifest/schema -update`.
func TestSchemaMatchesTypes(t *testing.T) {
	got, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	path := "deckhand.schema.json"
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read committed schema (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); diff != "" {
		t.Errorf("schema drifted from the Go types; run go test ./shared/spec/manifest/schema -update (-committed +generated):\n%s", diff)
	}
	for _, field := range []string{`"circuitBreaker"`, `"fromService"`, `"capacityProviders"`, `"additionalProperties": false`, `"allow"`, `"hostPaths"`, `"SYS_ADMIN"`, `"deployment"`, `"stepPercent"`, `"blueGreen"`, `"promoteFrom"`, `"gates"`, `"freeze"`, `"CRITICAL"`} {
		if !strings.Contains(string(got), field) {
			t.Errorf("schema lacks %s", field)
		}
	}
}
