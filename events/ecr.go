package events

import (
	"errors"
	"fmt"
	"strings"
)

// ECR Image Action constants, as EventBridge delivers them.
const (
	SourceECR             = "aws.ecr"
	DetailTypeImageAction = "ECR Image Action"
	ActionPush            = "PUSH"
	ActionDelete          = "DELETE"
	ResultSuccess         = "SUCCESS"
	ResultFailure         = "FAILURE"
)

// ECRImageAction is the detail of an "ECR Image Action" event. The media-type
// fields appear on newer pushes only.
type ECRImageAction struct {
	Result            string `json:"result"`
	RepositoryName    string `json:"repository-name"`
	ImageDigest       string `json:"image-digest,omitempty"`
	ActionType        string `json:"action-type"`
	ImageTag          string `json:"image-tag,omitempty"`
	ManifestMediaType string `json:"manifest-media-type,omitempty"`
	ArtifactMediaType string `json:"artifact-media-type,omitempty"`
}

// ImageActionEvent is a whole ECR Image Action event.
type ImageActionEvent = Envelope[ECRImageAction]

// DecodeImageAction decodes an ECR Image Action event and checks that it is
// one: a different source or detail-type is reported as malformed. So is an
// envelope EventBridge would never deliver: an account that is not a 12-digit
// id or a Region that is not a Region name (an empty one is never "ours"),
// and an image digest that is not ECR's sha256:<64 lowercase hex>.
func DecodeImageAction(data []byte) (ImageActionEvent, error) {
	const what = "ECR Image Action event"
	ev, err := Decode[ImageActionEvent](data, what)
	if err != nil {
		return ev, err
	}
	bad := func(path string, err error) (ImageActionEvent, error) {
		return ev, &DecodeError{What: what, Path: path, Err: err}
	}
	switch {
	case ev.Source != SourceECR || ev.DetailType != DetailTypeImageAction:
		return bad("$.detail-type", fmt.Errorf("want source %q detail-type %q, got %q %q", SourceECR, DetailTypeImageAction, ev.Source, ev.DetailType))
	case !ValidAccount(ev.Account):
		return bad("$.account", fmt.Errorf("account %q is not a 12-digit AWS account id", ev.Account))
	case !ValidRegion(ev.Region):
		return bad("$.region", fmt.Errorf("region %q is not an AWS Region name such as us-west-2", ev.Region))
	case ev.Detail.ImageDigest != "" && !ValidImageDigest(ev.Detail.ImageDigest):
		return bad("$.detail.image-digest", errors.New("want sha256: and 64 lowercase hex digits, as ECR digests are"))
	}
	return ev, nil
}

// ValidAccount reports whether s is an AWS account id: 12 digits.
func ValidAccount(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

// ValidRegion reports whether s has the shape of an AWS Region name: a
// partition prefix of 2 to 4 letters, one or more words, and a number
// (us-west-2, us-gov-east-1, eusc-de-east-1).
func ValidRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) < 2 || len(parts[0]) > 4 {
		return false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
			return false
		}
	}
	n := parts[len(parts)-1]
	return n != "" && len(n) <= 2 && strings.Trim(n, "0123456789") == ""
}

// ValidImageDigest reports whether s is an image digest as ECR writes it:
// "sha256:" and 64 lowercase hex digits.
func ValidImageDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	return ok && len(hex) == 64 && strings.Trim(hex, "0123456789abcdef") == ""
}
