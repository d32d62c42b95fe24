package events

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// DetailTypePromotion is a promotion request: the reconciler sends it into
// the deploy queue (never on a bus) when a binding's promotion source has
// served a digest long enough (DESIGN §11).
const DetailTypePromotion = "Deckhand Promotion"

// Promotion is the detail of a Deckhand Promotion: deploy to Binding what
// From serves, its Revision, which reached SUCCEEDED at SucceededAt.
type Promotion struct {
	Binding     string                   `json:"binding"`
	From        string                   `json:"from"`
	Revision    string                   `json:"revision"`
	SucceededAt time.Time                `json:"succeededAt"`
	Containers  map[string]PromotedImage `json:"containers"`
}

// PromotedImage is one container's image of a promotion, as the source's
// revision records it.
type PromotedImage struct {
	Repository string    `json:"repository"`
	Tag        string    `json:"tag,omitempty"`
	Digest     string    `json:"digest"`
	PushedAt   time.Time `json:"pushedAt"`
}

// PromotionEvent is a whole Deckhand Promotion.
type PromotionEvent = Envelope[Promotion]

// DecodePromotion decodes a Deckhand Promotion and checks it names a
// binding, its source and an ECR digest per container; anything else is
// malformed, with its JSON path.
func DecodePromotion(data []byte) (PromotionEvent, error) {
	const what = "Deckhand Promotion"
	ev, err := Decode[PromotionEvent](data, what)
	if err != nil {
		return ev, err
	}
	bad := func(path string, err error) (PromotionEvent, error) {
		return ev, &DecodeError{What: what, Path: path, Err: err}
	}
	d := ev.Detail
	switch {
	case ev.Source != SourceDeckhand || ev.DetailType != DetailTypePromotion:
		return bad("$.detail-type", fmt.Errorf("want source %q detail-type %q, got %q %q", SourceDeckhand, DetailTypePromotion, ev.Source, ev.DetailType))
	case d.Binding == "":
		return bad("$.detail.binding", errors.New("names no binding"))
	case d.From == "":
		return bad("$.detail.from", errors.New("names no source binding"))
	case len(d.Containers) == 0:
		return bad("$.detail.containers", errors.New("names no container"))
	}
	for _, c := range slices.Sorted(maps.Keys(d.Containers)) {
		if img := d.Containers[c]; !ValidImageDigest(img.Digest) || img.Repository == "" {
			return bad("$.detail.containers."+c, errors.New("want a repository and an ECR digest (sha256: and 64 lowercase hex digits)"))
		}
	}
	return ev, nil
}
