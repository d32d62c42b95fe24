package size

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestModule(t *testing.T) {
	tests := map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/ecs.(*Client).UpdateService":       "github.com/aws/aws-sdk-go-v2/service/ecs",
		"github.com/aws/aws-sdk-go-v2/service/ecs/types.(*Service).Foo":          "github.com/aws/aws-sdk-go-v2/service/ecs",
		"github.com/aws/aws-sdk-go-v2/aws/retry.NewStandard":                     "github.com/aws/aws-sdk-go-v2 (core)",
		"github.com/aws/smithy-go/transport/http.(*Request).Build":               "github.com/aws/smithy-go",
		"github.com/deckhand-ecs/deckhand/shared/engine/deploy.(*Engine).Deploy": "github.com/deckhand-ecs/deckhand/shared",
		"gopkg.in/yaml.v3.(*parser).parse":                                       "gopkg.in/yaml.v3",
		"net/http.(*Transport).roundTrip":                                        "std",
		"runtime.mallocgc":                                                       "runtime (data, pclntab, types)",
		"type:*github.com/aws/aws-sdk-go-v2/service/s3.Client":                   "github.com/aws/aws-sdk-go-v2/service/s3",
	}
	for sym, want := range tests {
		if got := Module(sym); got != want {
			t.Errorf("Module(%q) = %q, want %q", sym, got, want)
		}
	}
}

func TestSummarise(t *testing.T) {
	nm := []byte(" 1000 300 T net/http.(*Transport).roundTrip\n 2000 100 T net/url.Parse\n 3000 50 R runtime.pclntab\n garbage\n")
	got, total, err := Summarise(nm)
	if err != nil {
		t.Fatal(err)
	}
	want := []Share{{"std", 400}, {"runtime (data, pclntab, types)", 50}}
	if diff := cmp.Diff(want, got); diff != "" || total != 450 {
		t.Errorf("Summarise (-want +got):\n%s\ntotal %d", diff, total)
	}
}
