package events

import "fmt"

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
// one: a different source or detail-type is reported as malformed.
func DecodeImageAction(data []byte) (ImageActionEvent, error) {
	ev, err := Decode[ImageActionEvent](data, "ECR Image Action event")
	if err != nil {
		return ev, err
	}
	if ev.Source != SourceECR || ev.DetailType != DetailTypeImageAction {
		return ev, &DecodeError{What: "ECR Image Action event", Path: "$.detail-type",
			Err: fmt.Errorf("want source %q detail-type %q, got %q %q", SourceECR, DetailTypeImageAction, ev.Source, ev.DetailType)}
	}
	return ev, nil
}
