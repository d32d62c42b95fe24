package deploy

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Revision and service tag keys (DESIGN §5). Per-container keys are the
// prefix plus the container name.
const (
	TagPrefix      = "deckhand:"
	TagBinding     = "deckhand:binding"
	TagTrigger     = "deckhand:trigger"
	TagEventID     = "deckhand:event-id"
	TagTemplate    = "deckhand:template"
	TagContentHash = "deckhand:content-hash"
	TagPushedAt    = "deckhand:pushed-at:" // + container
	TagDigest      = "deckhand:digest:"    // + container
	TagImageTag    = "deckhand:tag:"       // + container: the image tag, kept as metadata
	// TagChanged on a revision lists, space-separated, the containers whose
	// image that deployment changed.
	TagChanged = "deckhand:changed"
	// TagRolledBack on an ECS service, plus a container name, records the
	// digest the circuit breaker rolled back; the deployer does not deploy
	// that digest to that container again unless forced.
	TagRolledBack = "deckhand:rolled-back:"
	// TagHold on an ECS service makes the deployer skip it with HELD. Its
	// value is the reason.
	TagHold = "deckhand:hold"
)

// Tags is a tag map read from ECS.
type Tags map[string]string

// TagsOf converts ECS tags to a map.
func TagsOf(tags []types.Tag) Tags {
	out := Tags{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

// PushedAt returns a container's pushed-at high-water mark, if recorded.
func (t Tags) PushedAt(container string) (time.Time, bool) {
	v, ok := t[TagPushedAt+container]
	if !ok {
		return time.Time{}, false
	}
	ts, err := time.Parse(time.RFC3339Nano, v)
	return ts, err == nil
}

// ECS converts the map to ECS tags, sorted by key for stable requests.
func (t Tags) ECS() []types.Tag {
	keys := slices.Sorted(maps.Keys(t))
	out := make([]types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(TagValue(t[k]))})
	}
	return out
}

// TagValue keeps the characters ECS allows in tag values (letters, digits,
// spaces and + - = . _ : / @), at most 256 of them.
func TagValue(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" +-=._:/@", r):
			return r
		}
		return -1
	}, s)
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}
