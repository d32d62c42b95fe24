package awserr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func answer(status int, code, msg string) error {
	return fmt.Errorf("operation: %w", &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: msg},
	})
}

// TestClassify names what each AWS answer means to Deckhand.
func TestClassify(t *testing.T) {
	questions := map[string]func(error) bool{
		"Throttled": Throttled, "ClientFault": ClientFault, "TaskDefinitionNotFound": TaskDefinitionNotFound,
		"ClusterNotFound": ClusterNotFound, "TokenConflict": TokenConflict, "ImageNotFound": ImageNotFound,
		"NotModified": NotModified, "NoSuchKey": NoSuchKey,
		"Permanent": func(err error) bool { _, ok := Permanent(err); return ok },
	}
	tests := map[string]struct {
		err  error
		want []string // the questions answered yes
	}{
		"ECS throttling":                    {answer(400, "ThrottlingException", "Rate exceeded"), []string{"Throttled"}},
		"S3 slowing down":                   {answer(503, "SlowDown", ""), []string{"Throttled"}},
		"a family with no revision":         {answer(400, "ClientException", "Unable to describe task definition."), []string{"ClientFault", "TaskDefinitionNotFound", "Permanent"}},
		"another ECS client error":          {answer(400, "ClientException", "Family contains invalid characters"), []string{"ClientFault", "Permanent"}},
		"a missing cluster":                 {answer(400, "ClusterNotFoundException", "Cluster not found."), []string{"ClientFault", "ClusterNotFound", "Permanent"}},
		"a client token used before":        {answer(400, "ClientException", "The specified clientToken is already in use"), []string{"ClientFault", "TokenConflict", "Permanent"}},
		"an idempotency conflict":           {answer(400, "ConflictException", ""), []string{"ClientFault", "TokenConflict"}},
		"a missing image":                   {answer(400, "ImageNotFoundException", ""), []string{"ClientFault", "ImageNotFound"}},
		"a missing repository":              {answer(400, "RepositoryNotFoundException", ""), []string{"ClientFault", "ImageNotFound"}},
		"a conditional GET that matched":    {answer(304, "NotModified", ""), []string{"NotModified"}},
		"a missing object":                  {answer(404, "NoSuchKey", ""), []string{"ClientFault", "NoSuchKey"}},
		"a server error":                    {answer(500, "InternalFailure", ""), nil},
		"an error that is not AWS's answer": {errors.New("connection reset"), nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			want := map[string]bool{}
			for _, q := range tc.want {
				want[q] = true
			}
			for q, ask := range questions {
				if got := ask(tc.err); got != want[q] {
					t.Errorf("%s = %v, want %v", q, got, want[q])
				}
			}
		})
	}
	if r, _ := Permanent(answer(400, "ServiceNotFoundException", "")); r != "ServiceNotFound" {
		t.Errorf("Permanent reason = %q, want ServiceNotFound", r)
	}
}
